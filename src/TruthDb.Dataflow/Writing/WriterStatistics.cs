namespace TruthDb.Dataflow.Writing;

/// <summary>Counters the writer thread bumps and any thread may read (<see cref="WalStatistics"/>).</summary>
internal sealed class WriterStatistics
{
    private long _appends;
    private long _batches;
    private long _writes;
    private long _bytesWritten;
    private long _syncs;
    private long _syncTicks;
    private long _segmentsCreated;

    /// <summary>A batch of <paramref name="records"/> appends was written.</summary>
    public void RecordBatch(int records)
    {
        Interlocked.Add(ref _appends, records);
        Interlocked.Increment(ref _batches);
    }

    /// <summary>One positional write of <paramref name="bytes"/>.</summary>
    public void RecordWrite(int bytes)
    {
        Interlocked.Increment(ref _writes);
        Interlocked.Add(ref _bytesWritten, bytes);
    }

    /// <summary>One fdatasync that took <paramref name="elapsed"/>.</summary>
    public void RecordSync(TimeSpan elapsed)
    {
        Interlocked.Increment(ref _syncs);
        Interlocked.Add(ref _syncTicks, elapsed.Ticks);
    }

    /// <summary>A new segment was activated.</summary>
    public void RecordRoll() => Interlocked.Increment(ref _segmentsCreated);

    /// <summary>A snapshot, with the queue figures the caller knows.</summary>
    public WalStatistics Snapshot(long pendingBytes, long queuedAppends, int segments) => new(
        Interlocked.Read(ref _appends),
        Interlocked.Read(ref _batches),
        Interlocked.Read(ref _writes),
        Interlocked.Read(ref _bytesWritten),
        Interlocked.Read(ref _syncs),
        TimeSpan.FromTicks(Interlocked.Read(ref _syncTicks)),
        Interlocked.Read(ref _segmentsCreated),
        pendingBytes,
        queuedAppends,
        segments);
}
