using Microsoft.Extensions.Logging;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>An <see cref="ILogger"/> that writes to the test's output and keeps the lines for assertions.</summary>
internal sealed class TestOutputLogger(ITestOutputHelper output) : ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Writes a line of the test itself (what it does next).</summary>
    public void Note(string text) => Write($"{DateTime.UtcNow:HH:mm:ss.fff} test: {text}");

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Write($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {eventId.Id}: {formatter(state, exception)}");
    }

    private void Write(string line)
    {
        lock (_lines)
        {
            _lines.Add(line);
        }

        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test ended.
        }
    }
}
