using Microsoft.Extensions.Logging;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>
/// Log events as lines on stderr (so stdout keeps only a verb's output): <c>truthdb: warning: ...</c>.
/// The verbs that open a log for writing print the engine's warnings and errors always — recovery's
/// report of a truncated torn tail among them — and, with <c>--verbose</c>, its information and debug
/// events too (<see cref="CommonOptions.EngineLogger"/>); the replicator prints its lifecycle
/// (information and above).
/// </summary>
/// <param name="minimum">The lowest level printed.</param>
internal sealed class StderrLogger(LogLevel minimum = LogLevel.Information) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimum;

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
            LogLevel.Debug or LogLevel.Trace => "debug: ",
            _ => string.Empty,
        };
        Console.Error.WriteLine("truthdb: " + level + formatter(state, exception));
    }
}
