using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TruthDb.Dataflow.Tests.Support;

/// <summary>An <see cref="ILogger"/> (and provider) that keeps every event it is given.</summary>
internal sealed class TestLogger : ILogger, ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var properties = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
        _entries.Enqueue(new Entry(eventId.Id, logLevel, formatter(state, exception), exception, properties.ToDictionary(p => p.Key, p => p.Value)));
    }

    /// <summary>The entries with event id <paramref name="id"/>.</summary>
    public List<Entry> Events(int id) => Entries.Where(e => e.EventId == id).ToList();

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }

    internal sealed record Entry(int EventId, LogLevel Level, string Message, Exception? Exception, Dictionary<string, object?> Properties);
}
