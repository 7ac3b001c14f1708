using Microsoft.Extensions.Logging;

namespace TruthDb.Dataflow.Diagnostics;

/// <summary>
/// Lifecycle events of the log as a whole (source-generated <see cref="LoggerMessageAttribute"/>).
/// Events that belong to one part of the engine stay next to it: recovery (1-3) in
/// <c>LogRecovery</c>, segment roll, log full, fault and close (10-13) in <c>LogWriter</c>.
/// README.md lists every event id.
/// </summary>
internal static partial class WalEvents
{
    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Opened the log in '{Directory}': LSNs {FirstLsn} to {LastLsn} in {Segments} segment(s); durability {Durability}, segment size {SegmentSize} bytes, batches of at most {MaxBatchRecords} records and {MaxBatchBytes} bytes, batch delay {MaxBatchDelay}, at most {MaxPendingBytes} bytes pending, flush interval {FlushInterval}.")]
    private static partial void LogOpened(ILogger logger, string directory, long firstLsn, long lastLsn, int segments, Durability durability, long segmentSize,
        int maxBatchRecords, long maxBatchBytes, TimeSpan maxBatchDelay, long maxPendingBytes, TimeSpan flushInterval);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "Could not open the log in '{Directory}'.")]
    public static partial void OpenFailed(ILogger logger, Exception error, string directory);

    /// <summary>Logs event 4 (opened, with the options in force) for the log in <paramref name="directory"/>, opened with <paramref name="options"/>.</summary>
    public static void Opened(ILogger logger, string directory, long firstLsn, long lastLsn, int segments, WalOptions options)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            LogOpened(logger, directory, firstLsn, lastLsn, segments, options.Durability, options.SegmentSize,
                options.MaxBatchRecords, options.MaxBatchBytes, options.MaxBatchDelay, options.MaxPendingBytes, options.FlushInterval);
        }
    }
}
