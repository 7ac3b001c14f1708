using System.Runtime.CompilerServices;
using Nerdbank.Streams;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc;

/// <summary>
/// Reads and tails. Each is a subscription on its own channel that the server offers; records come in
/// Records messages, and the client grants credit for more as the caller consumes them, so it
/// buffers at most <see cref="TruthDbClientOptions.SubscriptionCredit"/> messages per subscription and
/// a caller that stops reading holds back only its own subscription.
/// </summary>
public sealed partial class TruthDbClient
{
    /// <summary>
    /// The server log's records with LSN ≥ <paramref name="fromLsn"/>, in order, like
    /// <see cref="Wal.ReadAsync"/>: up to the durable (or <see cref="ReadOptions.Watermark"/>) watermark as
    /// of the start, or following new records with <see cref="ReadOptions.Follow"/> until
    /// <paramref name="ct"/> is cancelled or the server stops. Payloads are copies (they stay valid).
    /// </summary>
    /// <exception cref="TruthDbException">The start is below the first LSN (<see cref="TruthDbErrorCode.OutOfRange"/>) or the read failed on the server.</exception>
    public IAsyncEnumerable<WalRecord> ReadAsync(long fromLsn, ReadOptions? options = null, CancellationToken ct = default) =>
        SubscribeAsync(fromLsn, null, 0, options, ct);

    /// <summary>The server log's records after durable cursor <paramref name="name"/>'s committed LSN, like <see cref="Wal.ReadFromCursorAsync"/>.</summary>
    public IAsyncEnumerable<WalRecord> ReadFromCursorAsync(string name, ReadOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return SubscribeAsync(0, name, 0, options, ct);
    }

    /// <summary>At most <paramref name="maxRecords"/> records from <paramref name="fromLsn"/> up to the durable watermark (the protocol's Read with a maximum).</summary>
    public IAsyncEnumerable<WalRecord> ReadRangeAsync(long fromLsn, long maxRecords, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        return SubscribeAsync(fromLsn, null, maxRecords, null, ct);
    }

    private async IAsyncEnumerable<WalRecord> SubscribeAsync(long fromLsn, string? cursor, long maxRecords, ReadOptions? options, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var follow = options?.Follow == true;
        var id = NextId();
        using var accepting = CancellationTokenSource.CreateLinkedTokenSource(ct, _closing.Token);
        var channelTask = _multiplexer.AcceptChannelAsync(ProtocolConstants.SubscriptionChannel(id), accepting.Token);
        MultiplexingStream.Channel channel;
        try
        {
            await SubscribeRequestAsync(id, follow, new SubscribeRequest
            {
                FromLsn = fromLsn,
                Cursor = cursor,
                MaxRecords = maxRecords,
                Watermark = (int)(options?.Watermark ?? WalWatermark.Durable),
                StartAtFirstAvailable = options?.StartAtFirstAvailable == true,
                Credit = _options.SubscriptionCredit,
            }, ct).ConfigureAwait(false);
            channel = await channelTask.ConfigureAwait(false);
        }
        catch
        {
            await accepting.CancelAsync().ConfigureAwait(false);
            await channelTask.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            throw;
        }

        using (channel)
        {
            using var reader = new MessageReader(channel.Input, ProtocolConstants.MaxMaxMessageSize);
            using var credits = new MessageSender(channel.Output);
            var consumed = 0;
            var grantAt = Math.Max(1, _options.SubscriptionCredit / 2);
            while (true)
            {
                if (!await ReadSubscriptionAsync(reader, ct).ConfigureAwait(false))
                {
                    throw new TruthDbConnectionException("The read ended without an End message: the connection to the server is lost.");
                }

                MessageCodec.TryReadEnvelope(reader.Current, out var type, out _, out var body);
                if (type == MessageType.End)
                {
                    yield break;
                }

                if (type == MessageType.Error)
                {
                    var error = MessageCodec.ReadBody<ErrorReply>(body);
                    throw new TruthDbException(Enum.IsDefined((TruthDbErrorCode)error.Code) ? (TruthDbErrorCode)error.Code : TruthDbErrorCode.Unknown, error.Message);
                }

                if (type != MessageType.Records)
                {
                    throw new TruthDbConnectionException($"The server sent message type {(int)type} on a read channel.");
                }

                var records = MessageCodec.ReadBody<RecordsBody>(body);
                for (var i = 0; i < records.Payloads.Length; i++)
                {
                    yield return new WalRecord(records.FirstLsn + i, records.Payloads[i]);
                }

                // The caller took every record of that message: the server may send another.
                if (++consumed >= grantAt)
                {
                    await credits.SendAsync(MessageType.Credit, 0, new CreditBody { Messages = consumed }, ct).ConfigureAwait(false);
                    consumed = 0;
                }
            }
        }
    }

    private async Task SubscribeRequestAsync(uint id, bool follow, SubscribeRequest request, CancellationToken ct)
    {
        var pending = new Client.PendingReply<SubscribedReply>(MessageType.Subscribed);
        Register(id, pending);
        try
        {
            await _sender.SendAsync(follow ? MessageType.Tail : MessageType.Read, id, request, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            _pending.TryRemove(id, out _);
            throw Lost(ex);
        }

        await pending.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    private static async ValueTask<bool> ReadSubscriptionAsync(MessageReader reader, CancellationToken ct)
    {
        try
        {
            return await reader.ReadAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or ObjectDisposedException)
        {
            throw new TruthDbConnectionException("The connection to the server is lost during a read: " + ex.Message, ex);
        }
    }
}
