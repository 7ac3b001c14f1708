using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>The request handlers. Each starts its work synchronously (so appends reach the log in request order) and replies when it is done.</summary>
internal sealed partial class ServerConnection
{
    // An append batch is handed to the log in the read loop, so the batches of one connection get
    // increasing LSNs in request order; the reply goes out when the log acknowledges it. "durable"
    // means: reply only once every record of the batch is covered by an fdatasync. With a log that
    // runs Durability.Sync that is every acknowledgement; with Durability.Written the server flushes
    // (one fdatasync covers every batch waiting). The reply says which it is: never durable when it is not.
    private Task AppendAsync(uint id, AppendRequest request)
    {
        if (request.Payloads.Length == 0)
        {
            throw new ArgumentException("An Append holds at least one payload.");
        }

        var first = Wal.AppendBatchAsync(request.Payloads);
        return CompleteAppendAsync(id, first, request.Payloads.Length, request.Durable);
    }

    private async Task CompleteAppendAsync(uint id, ValueTask<long> pending, int count, bool durable)
    {
        long first;
        try
        {
            first = await pending.ConfigureAwait(false);
            var last = first + count - 1;
            while (durable && Wal.DurableLsn < last)
            {
                await Wal.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            await ReplyFailureAsync(MessageType.Append, id, ex).ConfigureAwait(false);
            return;
        }

        await ReplyAsync(id, MessageType.AppendReply, new AppendReply
        {
            FirstLsn = first,
            Count = count,
            Durable = Wal.DurableLsn >= first + count - 1,
        }).ConfigureAwait(false);
    }

    private async Task CommitCursorAsync(uint id, CommitCursorRequest request)
    {
        try
        {
            await Wal.CommitCursorAsync(request.Name, request.Lsn, _closed.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await ReplyFailureAsync(MessageType.CommitCursor, id, ex).ConfigureAwait(false);
            return;
        }

        await ReplyAsync(id, MessageType.Ok, EmptyBody.Instance).ConfigureAwait(false);
    }

    private Task StatsAsync(uint id, EmptyBody request)
    {
        _ = request;
        var stats = Wal.GetStatistics();
        return ReplyAsync(id, MessageType.StatsReply, new StatsReply
        {
            WrittenLsn = Wal.WrittenLsn,
            DurableLsn = Wal.DurableLsn,
            FirstLsn = Wal.FirstLsn,
            LogId = Wal.LogId.ToString("D"),
            Appends = stats.Appends,
            Batches = stats.Batches,
            Syncs = stats.Syncs,
            BytesWritten = stats.BytesWritten,
            PendingBytes = stats.PendingBytes,
            Connections = _server.ConnectionCount,
            Subscriptions = _server.SubscriptionCount,
            SyncMicroseconds = (long)stats.SyncTime.TotalMicroseconds,
        });
    }

    private async Task TruncateAsync(uint id, TruncateRequest request)
    {
        try
        {
            await Wal.TruncateBeforeAsync(request.BeforeLsn, _closed.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await ReplyFailureAsync(MessageType.Truncate, id, ex).ConfigureAwait(false);
            return;
        }

        await ReplyAsync(id, MessageType.TruncateReply, new TruncateReply { FirstLsn = Wal.FirstLsn }).ConfigureAwait(false);
    }
}
