using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>A <see cref="Wal"/> open in the server's process: every request, writes included.</summary>
internal sealed class WritableLog : ServedLog
{
    private readonly Wal _wal;

    public WritableLog(Wal wal)
        : base(wal) => _wal = wal;

    public override bool IsReadOnly => false;

    public override WalStatistics? Statistics => _wal.GetStatistics();

    public override Task<AppendReply> AppendAsync(ReadOnlyMemory<byte>[] payloads, bool durable)
    {
        if (payloads.Length == 0)
        {
            throw new ArgumentException("An Append holds at least one payload.");
        }

        return CompleteAsync(_wal.AppendBatchAsync(payloads), payloads.Length, durable);
    }

    public override ValueTask CommitCursorAsync(string name, long lsn, CancellationToken ct) =>
        _wal.CommitCursorAsync(name, lsn, ct);

    public override async Task<long> TruncateBeforeAsync(long lsn, CancellationToken ct)
    {
        await _wal.TruncateBeforeAsync(lsn, ct).ConfigureAwait(false);
        return _wal.FirstLsn;
    }

    // "durable" means: reply only once every record of the batch is covered by an fdatasync. With a log
    // that runs Durability.Sync that is every acknowledgement; with Durability.Written the server
    // flushes (one fdatasync covers every batch waiting). The reply says which it is: never durable
    // when it is not.
    private async Task<AppendReply> CompleteAsync(ValueTask<long> pending, int count, bool durable)
    {
        var first = await pending.ConfigureAwait(false);
        var last = first + count - 1;
        while (durable && _wal.DurableLsn < last)
        {
            await _wal.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return new AppendReply { FirstLsn = first, Count = count, Durable = _wal.DurableLsn >= last };
    }
}
