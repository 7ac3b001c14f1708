using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>
/// The log a server serves, as its connections use it. Reads, tails, cursors read, watermarks and the
/// log id go through the read contract (<see cref="Reader"/>), the same for every server; only the write
/// path differs: a <see cref="Wal"/> the server's process opened appends, flushes, commits cursors and
/// truncates (<see cref="WritableLog"/>), a log another process writes refuses all of that with
/// <see cref="TruthDbErrorCode.ReadOnly"/> and writes nothing (<see cref="ReadOnlyLog"/>).
/// </summary>
internal abstract class ServedLog
{
    protected ServedLog(IWalReader reader) => Reader = reader;

    /// <summary>Reads, cursors, watermarks, the log id.</summary>
    public IWalReader Reader { get; }

    /// <summary>True when every write request is refused.</summary>
    public abstract bool IsReadOnly { get; }

    /// <summary>The writer's counters; null when this process writes nothing.</summary>
    public abstract WalStatistics? Statistics { get; }

    /// <summary>
    /// Hands <paramref name="payloads"/> to the log before returning (so one connection's batches get
    /// LSNs in request order; a refusal throws here) and completes with the reply once the log
    /// acknowledged them, after a flush when <paramref name="durable"/> asks for one.
    /// </summary>
    public abstract Task<AppendReply> AppendAsync(ReadOnlyMemory<byte>[] payloads, bool durable);

    /// <summary>Durably records cursor <paramref name="name"/> at <paramref name="lsn"/>.</summary>
    public abstract ValueTask CommitCursorAsync(string name, long lsn, CancellationToken ct);

    /// <summary>Retention up to <paramref name="lsn"/>; returns the first LSN still in the log afterwards.</summary>
    public abstract Task<long> TruncateBeforeAsync(long lsn, CancellationToken ct);
}
