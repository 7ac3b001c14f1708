namespace TruthDb.Dataflow.Replication.Nats.Sources;

/// <summary>A log read through a <see cref="WalReader"/> (another process writes it); disposes the reader when <paramref name="owns"/>.</summary>
internal sealed class ReaderSource(WalReader reader, bool owns) : IReplicationSource
{
    public Guid LogId => reader.LogId;

    public long DurableLsn => reader.DurableLsn;

    public long WrittenLsn => reader.WrittenLsn;

    public IAsyncEnumerable<WalRecord> ReadAsync(long fromLsn, bool follow, CancellationToken ct) =>
        reader.ReadAsync(fromLsn, new ReadOptions { Follow = follow, Watermark = WalWatermark.Durable, StartAtFirstAvailable = true }, ct);

    public long GetCursor(string name) => reader.GetCursor(name);

    public ValueTask CommitCursorAsync(string name, long lsn, CancellationToken ct) => reader.CommitCursorAsync(name, lsn, ct);

    public void Dispose()
    {
        if (owns)
        {
            reader.Dispose();
        }
    }
}
