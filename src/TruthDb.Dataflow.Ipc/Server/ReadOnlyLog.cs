using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>
/// A log the server only reads (in practice a <see cref="WalReader"/> of a directory another process
/// writes: a restored replica that <c>truthdb restore --follow</c> keeps current). Every write request
/// is refused with <see cref="TruthDbErrorCode.ReadOnly"/> before anything is done, so nothing in the
/// directory is created, changed or locked by this server.
/// </summary>
internal sealed class ReadOnlyLog : ServedLog
{
    public ReadOnlyLog(IWalReader reader)
        : base(reader)
    {
    }

    public override bool IsReadOnly => true;

    public override WalStatistics? Statistics => null;

    public override Task<AppendReply> AppendAsync(ReadOnlyMemory<byte>[] payloads, bool durable) => throw Refusal("appends");

    public override ValueTask CommitCursorAsync(string name, long lsn, CancellationToken ct) => throw Refusal("cursor commits");

    public override Task<long> TruncateBeforeAsync(long lsn, CancellationToken ct) => throw Refusal("truncations");

    private static TruthDbException Refusal(string what) =>
        new(TruthDbErrorCode.ReadOnly, $"This server serves a read-only replica: {what} go to the log's writer.");
}
