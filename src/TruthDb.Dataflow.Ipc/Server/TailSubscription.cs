using MessagePack;
using Nerdbank.Streams;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>
/// One read or tail on its own channel. Records are read through the served log's reader (a Wal's
/// in-process one, or a WalReader; never blocking the writer) only while the client has credit: each
/// Records message spends one credit, and the client grants more with Credit messages as its
/// application consumes. With no credit the server reads nothing and buffers nothing, so a stalled
/// consumer (also one whose multiplexer acks bytes on arrival, as the npm package does) holds back
/// only this channel: at most its credit of messages (each at most 64 KiB of payload, or one record)
/// is ever outstanding.
/// </summary>
internal sealed partial class TailSubscription : IDisposable
{
    private const int MaxClientMessageSize = 1024;
    private const int MaxCreditGrant = 1 << 16;
    private const int MaxOutstandingCredit = 1 << 20;

    private static readonly Task<bool> CompletedTrue = Task.FromResult(true);

    // How long a stopping subscription waits for the client to take its End before the channel goes.
    private static readonly TimeSpan EndGrace = TimeSpan.FromSeconds(2);

    private readonly ServerConnection _connection;
    private readonly SubscribeRequest _request;
    private readonly CancellationTokenSource _cancel;
    private readonly SemaphoreSlim _credit;
    private readonly IAsyncEnumerable<WalRecord> _records;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastLsn;
    private ErrorReply? _refusal;

    public TailSubscription(ServerConnection connection, uint id, long fromLsn, SubscribeRequest request, ReadOptions options, CancellationToken connectionClosed)
    {
        _connection = connection;
        _request = request;
        Id = id;
        StartLsn = Math.Max(Math.Max(fromLsn, connection.Log.FirstLsn), 1);
        _lastLsn = StartLsn - 1;
        ChannelName = ProtocolConstants.SubscriptionChannel(id);
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(connectionClosed);
        _credit = new SemaphoreSlim(request.Credit, int.MaxValue);

        // Throws here (answered as an error) for a start the log cannot serve.
        _records = connection.Log.ReadAsync(fromLsn, options, _cancel.Token);
    }

    public uint Id { get; }

    public long StartLsn { get; }

    public string ChannelName { get; }

    public async Task RunAsync(MultiplexingStream multiplexer)
    {
        MultiplexingStream.Channel? channel = null;
        try
        {
            using (var offer = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token))
            {
                offer.CancelAfter(_connection.ServerOptions.HandshakeTimeout);
                channel = await multiplexer.OfferChannelAsync(ChannelName, offer.Token).ConfigureAwait(false);
            }

            using var sender = new MessageSender(channel.Output);
            var credits = ReadCreditsAsync(channel);
            try
            {
                await PumpAsync(sender).ConfigureAwait(false);
                var reason = _connection.ServerStopping ? EndBody.ShuttingDown : EndBody.Completed;
                await sender.SendAsync(MessageType.End, Id, new EndBody { LastLsn = _lastLsn, Reason = reason }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
            {
                // The client closed the channel or sent something other than a good Credit, or the
                // connection or server stops.
                if (Volatile.Read(ref _refusal) is { } refusal)
                {
                    await TrySendAsync(sender, MessageType.Error, refusal).ConfigureAwait(false);
                }
                else if (_connection.ServerStopping)
                {
                    await TrySendAsync(sender, MessageType.End, new EndBody { LastLsn = _lastLsn, Reason = EndBody.ShuttingDown }).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                var (code, message) = ErrorMapping.From(ex);
                await TrySendAsync(sender, MessageType.Error, new ErrorReply { Code = (int)code, Message = message }).ConfigureAwait(false);
            }

            // Disposing the channel could drop what is not transmitted yet: let the End (or Error)
            // reach the client, which closes its side once it has read it; don't wait forever.
            await channel.Output.CompleteAsync().ConfigureAwait(false);
            try
            {
                var grace = _cancel.IsCancellationRequested ? EndGrace : _connection.ServerOptions.HandshakeTimeout;
                await credits.WaitAsync(grace).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }

            await _cancel.CancelAsync().ConfigureAwait(false);
            await credits.ConfigureAwait(false);
            if (Volatile.Read(ref _refusal) is not null)
            {
                // The credit reader stopped at the bad message: the client's side has not ended yet,
                // and the Error must reach it before the channel goes.
                await DrainAsync(channel.Input).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Never accepted, or the connection went away.
        }
        finally
        {
            channel?.Dispose();
            _ended.TrySetResult();
        }
    }

    /// <summary>Ends the subscription (End with reason "shutting down" when the server stops) and waits for it.</summary>
    public Task StopAsync()
    {
        _cancel.Cancel();
        return _ended.Task;
    }

    public void Dispose()
    {
        _cancel.Dispose();
        _credit.Dispose();
    }

    // Credit messages from the client; the channel's end (the client closed it) ends the subscription.
    // Anything else the client sends here ends it too, with an Error that says why (sent by RunAsync).
    private async Task ReadCreditsAsync(MultiplexingStream.Channel channel)
    {
        using var reader = new MessageReader(channel.Input, MaxClientMessageSize);
        try
        {
            while (await reader.ReadAsync(_cancel.Token).ConfigureAwait(false))
            {
                if (!MessageCodec.TryReadEnvelope(reader.Current, out var type, out _, out var body) || type != MessageType.Credit)
                {
                    Refuse(TruthDbErrorCode.BadRequest, "Credit [messages] is the only message a client sends on a subscription channel.");
                    break;
                }

                var credit = MessageCodec.ReadBody<CreditBody>(body);
                if (credit.Messages is < 0 or > MaxCreditGrant || _credit.CurrentCount + (long)credit.Messages > MaxOutstandingCredit)
                {
                    Refuse(TruthDbErrorCode.InvalidArgument, $"A Credit grants 0 to {MaxCreditGrant} messages, and at most {MaxOutstandingCredit} may be outstanding; got {credit.Messages} with {_credit.CurrentCount} outstanding.");
                    break;
                }

                if (credit.Messages > 0)
                {
                    _credit.Release(credit.Messages);
                }
            }
        }
        catch (MessageTooLargeException ex)
        {
            Refuse(TruthDbErrorCode.MessageTooLarge, ex.Message + " (on a subscription channel)");
        }
        catch (Exception ex) when (ex is EndOfStreamException or MessagePackSerializationException)
        {
            Refuse(TruthDbErrorCode.BadRequest, "A malformed Credit: " + ex.Message);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Ends the subscription below.
        }

        await _cancel.CancelAsync().ConfigureAwait(false);
    }

    // Reads and drops what the client still sends until it closes its side, for at most EndGrace.
    private static async Task DrainAsync(System.IO.Pipelines.PipeReader input)
    {
        using var grace = new CancellationTokenSource(EndGrace);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(grace.Token).ConfigureAwait(false);
                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Gone, or the grace is over.
        }
    }

    private void Refuse(TruthDbErrorCode code, string message) =>
        Volatile.Write(ref _refusal, new ErrorReply { Code = (int)code, Message = message });

    private async Task TrySendAsync<T>(MessageSender sender, MessageType type, T body)
    {
        try
        {
            await sender.SendAsync(type, Id, body, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
        }
    }
}
