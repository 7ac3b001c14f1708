namespace TruthDb.Dataflow;

/// <summary>
/// A snapshot of what the writer has done since the log was opened, and of its queue right now.
/// Average batch size is <see cref="Appends"/> / <see cref="Batches"/>; average sync time is
/// <see cref="SyncTime"/> / <see cref="Syncs"/>.
/// </summary>
/// <param name="Appends">Records written (acknowledged or about to be).</param>
/// <param name="Batches">Batches written: groups of appends that share one write and, with <see cref="Durability.Sync"/>, one fdatasync.</param>
/// <param name="Writes">Positional writes issued.</param>
/// <param name="BytesWritten">Bytes written in frames (headers and padding included).</param>
/// <param name="Syncs">fdatasync calls, seals and background flushes included.</param>
/// <param name="SyncTime">Time spent in fdatasync.</param>
/// <param name="SegmentsCreated">Segments activated since open.</param>
/// <param name="PendingBytes">Payload bytes accepted and not yet completed.</param>
/// <param name="QueuedAppends">Appends accepted and not yet taken by the writer (queue depth), including those waiting for room.</param>
/// <param name="Segments">Segments in the log.</param>
public readonly record struct WalStatistics(
    long Appends,
    long Batches,
    long Writes,
    long BytesWritten,
    long Syncs,
    TimeSpan SyncTime,
    long SegmentsCreated,
    long PendingBytes,
    long QueuedAppends,
    int Segments);
