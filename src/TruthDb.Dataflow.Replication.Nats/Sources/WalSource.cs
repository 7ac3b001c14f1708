namespace TruthDb.Dataflow.Replication.Nats.Sources;

/// <summary>A log read through its writer's <see cref="Wal"/>, in the writing process (the caller owns the log).</summary>
internal sealed class WalSource(Wal wal) : IReplicationSource
{
    public Guid LogId => wal.LogId;

    public long DurableLsn => wal.DurableLsn;

    public long WrittenLsn => wal.WrittenLsn;

    public IAsyncEnumerable<WalRecord> ReadAsync(long fromLsn, bool follow, CancellationToken ct) =>
        wal.ReadAsync(fromLsn, new ReadOptions { Follow = follow, Watermark = WalWatermark.Durable, StartAtFirstAvailable = true }, ct);

    public long GetCursor(string name) => wal.GetCursor(name);

    public ValueTask CommitCursorAsync(string name, long lsn, CancellationToken ct) => wal.CommitCursorAsync(name, lsn, ct);

    public void Dispose()
    {
    }
}
