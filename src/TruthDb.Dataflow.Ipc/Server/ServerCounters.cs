namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>Counters of a server, for its statistics and for tests that check what it buffered.</summary>
internal sealed class ServerCounters
{
    private long _recordsMessagesSent;
    private long _recordsBytesSent;
    private long _closedForBadInput;

    public long RecordsMessagesSent => Volatile.Read(ref _recordsMessagesSent);

    public long RecordsBytesSent => Volatile.Read(ref _recordsBytesSent);

    public long ConnectionsClosedForBadInput => Volatile.Read(ref _closedForBadInput);

    public void RecordsSent(int bytes)
    {
        Interlocked.Increment(ref _recordsMessagesSent);
        Interlocked.Add(ref _recordsBytesSent, bytes);
    }

    public void ClosedForBadInput() => Interlocked.Increment(ref _closedForBadInput);
}
