namespace TruthDb.Dataflow.Writing;

/// <summary>
/// What the write path reports as it works, to whoever listens: the log's metrics
/// (<c>Diagnostics/WalMetrics.cs</c>). Calls come from the writer thread, except
/// <see cref="AppendStarted"/> (a producer's). They run on the append path: keep them cheap.
/// </summary>
internal interface IWriterListener
{
    /// <summary>The timestamp an append starts at (kept in its <see cref="PendingAppend"/>), or 0 when nobody measures append latency.</summary>
    long AppendStarted();

    /// <summary>The writer is about to acknowledge <paramref name="appends"/>, written as one batch (a completed append may be reused at once, so not after).</summary>
    void Acknowledging(ReadOnlySpan<PendingAppend> appends);

    /// <summary><paramref name="count"/> appends were refused because the log is full.</summary>
    void Refused(int count);

    /// <summary>One positional write of <paramref name="bytes"/>.</summary>
    void Written(int bytes);

    /// <summary>One fdatasync that took <paramref name="elapsed"/>.</summary>
    void Synced(TimeSpan elapsed);

    /// <summary>The log faulted with <paramref name="error"/> (reported once).</summary>
    void Faulted(Exception error);
}

/// <summary>
/// The one instrumentation path of the writer: every event is reported here once, counted for
/// <see cref="WalStatistics"/> (the writer thread bumps, any thread reads), and passed on to the
/// listener.
/// </summary>
internal sealed class WriterEvents(IWriterListener listener)
{
    private long _appends;
    private long _batches;
    private long _writes;
    private long _bytesWritten;
    private long _syncs;
    private long _syncTicks;
    private long _segmentsCreated;

    /// <inheritdoc cref="IWriterListener.AppendStarted"/>
    public long AppendStarted() => listener.AppendStarted();

    /// <summary>A batch of <paramref name="records"/> records was written; <paramref name="appends"/> are about to be acknowledged.</summary>
    public void BatchWritten(ReadOnlySpan<PendingAppend> appends, int records)
    {
        Interlocked.Add(ref _appends, records);
        Interlocked.Increment(ref _batches);
        listener.Acknowledging(appends);
    }

    /// <inheritdoc cref="IWriterListener.Refused"/>
    public void Refused(int count) => listener.Refused(count);

    /// <inheritdoc cref="IWriterListener.Written"/>
    public void Written(int bytes)
    {
        Interlocked.Increment(ref _writes);
        Interlocked.Add(ref _bytesWritten, bytes);
        listener.Written(bytes);
    }

    /// <inheritdoc cref="IWriterListener.Synced"/>
    public void Synced(TimeSpan elapsed)
    {
        Interlocked.Increment(ref _syncs);
        Interlocked.Add(ref _syncTicks, elapsed.Ticks);
        listener.Synced(elapsed);
    }

    /// <summary>A new segment was activated.</summary>
    public void Rolled() => Interlocked.Increment(ref _segmentsCreated);

    /// <inheritdoc cref="IWriterListener.Faulted"/>
    public void Faulted(Exception error) => listener.Faulted(error);

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
