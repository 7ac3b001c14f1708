namespace TruthDb.Dataflow.Replication.Nats.Sources;

/// <summary>
/// The one read the replicator makes of a log, through the engine's read contract
/// (<see cref="IWalReader"/>: the writer's <see cref="Wal"/> in-process, or a <see cref="WalReader"/>
/// when the replicator runs as its own process).
/// </summary>
internal static class DurableReads
{
    /// <summary>
    /// Durable records from <paramref name="fromLsn"/> (or from the first the log still has, when
    /// retention removed it); with <paramref name="follow"/>, until cancelled.
    /// </summary>
    public static IAsyncEnumerable<WalRecord> ReadAsync(this IWalReader log, long fromLsn, bool follow, CancellationToken ct) =>
        log.ReadAsync(fromLsn, new ReadOptions { Follow = follow, Watermark = WalWatermark.Durable, StartAtFirstAvailable = true }, ct);
}
