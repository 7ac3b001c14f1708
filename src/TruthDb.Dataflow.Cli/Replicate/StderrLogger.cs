using Microsoft.Extensions.Logging;

namespace TruthDb.Dataflow.Cli.Replicate;

/// <summary>The replicator's lifecycle events (information and above) as lines on stderr, so stdout keeps only progress.</summary>
internal sealed class StderrLogger : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var level = logLevel switch
        {
            LogLevel.Warning => "warning: ",
            LogLevel.Error or LogLevel.Critical => "error: ",
            _ => string.Empty,
        };
        Console.Error.WriteLine("truthdb: " + level + formatter(state, exception));
    }
}
