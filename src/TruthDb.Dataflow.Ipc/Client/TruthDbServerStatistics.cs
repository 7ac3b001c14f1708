namespace TruthDb.Dataflow.Ipc;

/// <summary>What a server reports about its log and itself (the Stats request).</summary>
public sealed class TruthDbServerStatistics
{
    internal TruthDbServerStatistics(Protocol.StatsReply reply)
    {
        WrittenLsn = reply.WrittenLsn;
        DurableLsn = reply.DurableLsn;
        FirstLsn = reply.FirstLsn;
        LogId = Guid.TryParse(reply.LogId, out var id) ? id : Guid.Empty;
        Appends = reply.Appends;
        Batches = reply.Batches;
        Syncs = reply.Syncs;
        BytesWritten = reply.BytesWritten;
        PendingBytes = reply.PendingBytes;
        Connections = reply.Connections;
        Subscriptions = reply.Subscriptions;
        SyncTime = TimeSpan.FromMicroseconds(reply.SyncMicroseconds);
        ReadOnly = reply.ReadOnly;
        Segments = Array.AsReadOnly(Array.ConvertAll(reply.Segments ?? [], static s => s.ToSegment()));
        var cursors = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var cursor in reply.Cursors ?? [])
        {
            cursors[cursor.Name] = cursor.CommittedLsn;
        }

        Cursors = cursors.AsReadOnly();
    }

    /// <summary>The log's written watermark.</summary>
    public long WrittenLsn { get; }

    /// <summary>The log's durable watermark.</summary>
    public long DurableLsn { get; }

    /// <summary>The first LSN still in the log; 0 when it holds no record.</summary>
    public long FirstLsn { get; }

    /// <summary>The log's identity.</summary>
    public Guid LogId { get; }

    /// <summary>Records appended since the log was opened.</summary>
    public long Appends { get; }

    /// <summary>Batches written since the log was opened.</summary>
    public long Batches { get; }

    /// <summary>fdatasyncs since the log was opened.</summary>
    public long Syncs { get; }

    /// <summary>Bytes written since the log was opened.</summary>
    public long BytesWritten { get; }

    /// <summary>Bytes accepted and not yet written.</summary>
    public long PendingBytes { get; }

    /// <summary>Connections the server has open.</summary>
    public int Connections { get; }

    /// <summary>Reads and tails open on the server.</summary>
    public int Subscriptions { get; }

    /// <summary>Time spent in fdatasync since the log was opened.</summary>
    public TimeSpan SyncTime { get; }

    /// <summary>True when the server serves its log read-only: it writes nothing, so the counters of writing (<see cref="Appends"/> to <see cref="SyncTime"/>) are 0.</summary>
    public bool ReadOnly { get; }

    /// <summary>
    /// The log's segments, oldest first (the last one is being written), as the server's log knows them
    /// (<see cref="IWalReader.GetSegments"/>: no file length or end of records, which only reading the
    /// files tells; on a read-only server, <see cref="WalSegment.IsSealed"/> of the last segment is null).
    /// Empty when the server is older than this field (it sends none).
    /// </summary>
    public IReadOnlyList<WalSegment> Segments { get; }

    /// <summary>
    /// The log's durable cursors and the LSN each committed, ordered by name (ordinal). Empty when the log
    /// has none, and when the server is older than this field (it sends none). A damaged cursor file is
    /// never left out: the server answers the request with <see cref="TruthDbErrorCode.Corrupted"/> instead.
    /// </summary>
    public IReadOnlyDictionary<string, long> Cursors { get; }
}
