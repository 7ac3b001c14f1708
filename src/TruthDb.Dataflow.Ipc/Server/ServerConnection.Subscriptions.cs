using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>Read and Tail: each gets its own channel, offered by the server, with credit-driven flow.</summary>
internal sealed partial class ServerConnection
{
    private const int MaxCredit = 1 << 16;

    private Task SubscribeAsync(uint id, SubscribeRequest request, bool follow)
    {
        if (request.Credit is < 0 or > MaxCredit)
        {
            throw new ArgumentException($"Credit is 0 to {MaxCredit} messages; got {request.Credit}.");
        }

        if (request.MaxRecords < 0)
        {
            throw new ArgumentException($"MaxRecords cannot be negative; got {request.MaxRecords}.");
        }

        if (request.Watermark is not ((int)WalWatermark.Durable or (int)WalWatermark.Written))
        {
            throw new ArgumentException($"Watermark is 0 (durable) or 1 (written); got {request.Watermark}.");
        }

        var from = request.Cursor is { } cursor ? Reader.GetCursor(cursor) + 1 : request.FromLsn;
        var next = Reader.WrittenLsn + 1;
        if (from > next)
        {
            // LSNs are dense: a position past the next one cannot come from this log (a tail there
            // would silently skip the records written before it).
            throw new TruthDbException(TruthDbErrorCode.OutOfRange, $"A read starts at an LSN from 0 to the next one to be written ({next}); got {from}.");
        }

        var options = new ReadOptions
        {
            Follow = follow,
            Watermark = (WalWatermark)request.Watermark,
            StartAtFirstAvailable = request.StartAtFirstAvailable,
        };
        TailSubscription subscription;
        lock (_subscriptions)
        {
            if (_subscriptions.Count >= Options.MaxSubscriptionsPerConnection)
            {
                throw new TruthDbException(TruthDbErrorCode.TooManySubscriptions, $"A connection may have {Options.MaxSubscriptionsPerConnection} reads and tails open at once.");
            }

            if (_subscriptions.ContainsKey(id))
            {
                throw new ArgumentException($"Request id {id} already names an open read or tail.");
            }

            // Validates the start (negative, or below the first LSN) before anything is offered.
            subscription = new TailSubscription(this, id, from, request, options, _closed.Token);
            _subscriptions.Add(id, subscription);
        }

        return StartSubscriptionAsync(subscription);
    }

    private async Task StartSubscriptionAsync(TailSubscription subscription)
    {
        await ReplyAsync(subscription.Id, MessageType.Subscribed, new SubscribedReply
        {
            Channel = subscription.ChannelName,
            StartLsn = subscription.StartLsn,
        }).ConfigureAwait(false);
        _ = RunSubscriptionAsync(subscription);
    }

    private async Task RunSubscriptionAsync(TailSubscription subscription)
    {
        try
        {
            await subscription.RunAsync(_multiplexer!).ConfigureAwait(false);
        }
        finally
        {
            lock (_subscriptions)
            {
                _subscriptions.Remove(subscription.Id);
            }

            subscription.Dispose();
        }
    }

    internal IWalReader Log => Reader;

    internal ServerCounters Counters => _server.Counters;

    internal TruthDbServerOptions ServerOptions => Options;

    internal bool ServerStopping => _server.Stopping.IsCancellationRequested;
}
