namespace TruthDb.Dataflow.Replication.Nats.Restoring;

/// <summary>
/// The restored log's appends in flight: each message's records go in with one batch append, without
/// waiting for the previous one to be acknowledged (the log groups them into its writes and syncs), at
/// most <c>depth</c> unacknowledged. Each acknowledgement must give the LSN the stream gave the record:
/// the restorer is the log's only writer, so anything else means the copy went wrong, and it stops.
/// </summary>
internal sealed class AppendQueue(Wal wal, long segmentSize, int depth)
{
    // What one batch append takes at most, framed (a frame adds a header and pads to 8 bytes; 64 is more
    // than it adds): half a segment, so a batch always fits in the next one.
    private const int FrameAllowance = 64;
    private readonly long _maxBatchBytes = segmentSize / 2;
    private readonly Queue<(Task<long> Append, long FirstLsn)> _pending = new();
    private readonly List<ReadOnlyMemory<byte>> _batch = [];
    private long _batchBytes;
    private long _batchFirst;

    /// <summary>The last LSN appended (acknowledged or not).</summary>
    public long Appended { get; private set; } = wal.WrittenLsn;

    /// <summary>Appends <paramref name="record"/>, which must be the next LSN; its payload is copied.</summary>
    public async ValueTask AddAsync(WalRecord record)
    {
        if (record.Lsn != Appended + 1)
        {
            throw new InvalidOperationException($"LSN {record.Lsn} is not the next record of the restored log (it ends at LSN {Appended}).");
        }

        var framed = record.Payload.Length + FrameAllowance;
        if (_batch.Count > 0 && _batchBytes + framed > _maxBatchBytes)
        {
            await SendAsync().ConfigureAwait(false);
        }

        if (_batch.Count == 0)
        {
            _batchFirst = record.Lsn;
        }

        _batch.Add(record.Payload);
        _batchBytes += framed;
        Appended = record.Lsn;
    }

    /// <summary>Sends what <see cref="AddAsync"/> gathered (the end of a message): one batch append.</summary>
    public async ValueTask SendAsync()
    {
        if (_batch.Count == 0)
        {
            return;
        }

        var append = wal.AppendBatchAsync(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_batch)).AsTask();
        _pending.Enqueue((append, _batchFirst));
        _batch.Clear();
        _batchBytes = 0;
        while (_pending.Count > depth)
        {
            await CompleteOldestAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Waits until every append is acknowledged.</summary>
    public async Task DrainAsync()
    {
        await SendAsync().ConfigureAwait(false);
        while (_pending.Count > 0)
        {
            await CompleteOldestAsync().ConfigureAwait(false);
        }
    }

    private async Task CompleteOldestAsync()
    {
        var (append, first) = _pending.Dequeue();
        var lsn = await append.ConfigureAwait(false);
        if (lsn != first)
        {
            throw new InvalidOperationException($"The restored log gave LSN {lsn} to the record the stream holds as LSN {first}: something else appended to it. The restore stops.");
        }
    }
}
