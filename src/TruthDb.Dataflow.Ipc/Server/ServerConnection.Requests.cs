using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>
/// The request handlers. Each starts its work synchronously (so appends reach the log in request order)
/// and replies when it is done. Writes go through the served log (<see cref="ServedLog"/>), which refuses
/// them on a read-only server before anything is done.
/// </summary>
internal sealed partial class ServerConnection
{
    private ServedLog Served => _server.Log;

    // An append batch is handed to the log in the read loop, so the batches of one connection get
    // increasing LSNs in request order; the reply goes out when the log acknowledges it (and, for a
    // durable append, once an fdatasync covers it: WritableLog).
    private Task AppendAsync(uint id, AppendRequest request) =>
        ReplyWhenDoneAsync(id, MessageType.Append, MessageType.AppendReply, Served.AppendAsync(request.Payloads, request.Durable));

    private Task CommitCursorAsync(uint id, CommitCursorRequest request) =>
        ReplyWhenDoneAsync(id, MessageType.CommitCursor, MessageType.Ok, CommittedAsync(request));

    private Task TruncateAsync(uint id, TruncateRequest request) =>
        ReplyWhenDoneAsync(id, MessageType.Truncate, MessageType.TruncateReply, TruncatedAsync(request));

    // A few small reads (the cursor files; a read-only server lists the directory again for the
    // segments), done in the read loop like the rest. A failure becomes the error reply (ErrorMapping):
    // a damaged cursor file, or a segment header a read-only server cannot read, is Corrupted and named
    // in the message; the log closing is ShuttingDown.
    private Task StatsAsync(uint id, EmptyBody request)
    {
        _ = request;
        return ReplyAsync(id, MessageType.StatsReply, Statistics());
    }

    private StatsReply Statistics()
    {
        // The segments before the watermarks: the last segment's lastLsn is then never above writtenLsn.
        var segments = Reader.GetSegments();
        var cursors = Reader.Cursors;

        // A read-only server writes nothing: its writing counters are 0.
        var stats = Served.Statistics;
        return new StatsReply
        {
            WrittenLsn = Reader.WrittenLsn,
            DurableLsn = Reader.DurableLsn,
            FirstLsn = Reader.FirstLsn,
            LogId = Reader.LogId.ToString("D"),
            Appends = stats?.Appends ?? 0,
            Batches = stats?.Batches ?? 0,
            Syncs = stats?.Syncs ?? 0,
            BytesWritten = stats?.BytesWritten ?? 0,
            PendingBytes = stats?.PendingBytes ?? 0,
            Connections = _server.ConnectionCount,
            Subscriptions = _server.SubscriptionCount,
            SyncMicroseconds = stats is { } writing ? (long)writing.SyncTime.TotalMicroseconds : 0,
            ReadOnly = Served.IsReadOnly,
            Segments = [.. segments.Select(StatsSegment.From)],
            Cursors = [.. cursors.Select(static c => new StatsCursor { Name = c.Key, CommittedLsn = c.Value })],
        };
    }

    private async Task<EmptyBody> CommittedAsync(CommitCursorRequest request)
    {
        await Served.CommitCursorAsync(request.Name, request.Lsn, _closed.Token).ConfigureAwait(false);
        return EmptyBody.Instance;
    }

    private async Task<TruncateReply> TruncatedAsync(TruncateRequest request) =>
        new() { FirstLsn = await Served.TruncateBeforeAsync(request.BeforeLsn, _closed.Token).ConfigureAwait(false) };

    // Replies with what the work returns, or with the error it failed with.
    private async Task ReplyWhenDoneAsync<T>(uint id, MessageType request, MessageType reply, Task<T> work)
    {
        T body;
        try
        {
            body = await work.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await ReplyFailureAsync(request, id, ex).ConfigureAwait(false);
            return;
        }

        await ReplyAsync(id, reply, body).ConfigureAwait(false);
    }
}
