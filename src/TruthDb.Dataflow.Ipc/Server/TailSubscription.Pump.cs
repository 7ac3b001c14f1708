using MessagePack;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>
/// The pump: one Records message per credit, filled with the records that are ready (up to 1024
/// records and 64 KiB of payload, or one bigger record alone), sent without waiting for more.
/// </summary>
internal sealed partial class TailSubscription
{
    private async Task PumpAsync(MessageSender sender)
    {
        var ct = _cancel.Token;
        var remaining = _request.MaxRecords > 0 ? _request.MaxRecords : long.MaxValue;
        using var message = new MessageBuffer(ProtocolConstants.RecordsMessageBytes + 1024);
        var records = _records.GetAsyncEnumerator(ct);
        await using (records.ConfigureAwait(false))
        {
            Task<bool>? pendingNext = null;
            while (remaining > 0)
            {
                await _credit.WaitAsync(ct).ConfigureAwait(false);
                var has = pendingNext is null
                    ? await records.MoveNextAsync().ConfigureAwait(false)
                    : await pendingNext.ConfigureAwait(false);
                if (!has)
                {
                    return;
                }

                pendingNext = null;
                message.Reset();
                var at = message.Reserve(ProtocolConstants.LengthPrefix);
                var writer = new MessagePackWriter(message);
                MessageCodec.WriteEnvelope(ref writer, MessageType.Records, Id);
                writer.WriteArrayHeader(2);
                writer.Write(records.Current.Lsn);
                writer.Flush();
                var countAt = message.Reserve(5);
                var count = 0;
                var bytes = 0;
                var firstLsn = records.Current.Lsn;
                while (true)
                {
                    if (records.Current.Lsn != firstLsn + count)
                    {
                        throw new InvalidOperationException($"The log returned LSN {records.Current.Lsn} after {firstLsn + count - 1}.");
                    }

                    var payload = records.Current.Payload.Span;
                    if (count == 0 && message.Length + payload.Length + 16 > _connection.ServerOptions.MaxMessageSize)
                    {
                        throw new TruthDbException(TruthDbErrorCode.MessageTooLarge, $"Record {records.Current.Lsn} ({payload.Length} bytes) does not fit in a message of at most {_connection.ServerOptions.MaxMessageSize} bytes (the server's maximum message size).");
                    }

                    if (count > 0 && (bytes + payload.Length > ProtocolConstants.RecordsMessageBytes || message.Length + payload.Length + 16 > _connection.ServerOptions.MaxMessageSize))
                    {
                        // Goes first into the next message: a message holds at most 64 KiB of payload
                        // (unless its only record is bigger) and is never larger than the maximum.
                        pendingNext = CompletedTrue;
                        break;
                    }

                    writer = new MessagePackWriter(message);
                    writer.Write(payload);
                    writer.Flush();
                    count++;
                    bytes += payload.Length;
                    _lastLsn = records.Current.Lsn;
                    remaining--;
                    if (remaining == 0 || count >= ProtocolConstants.RecordsMessageRecords || bytes >= ProtocolConstants.RecordsMessageBytes)
                    {
                        break;
                    }

                    // Send what is gathered rather than wait for the next record; and before a failure
                    // to read it (damage after these records, say): the client gets every record that
                    // could be read, then the Error, when its next credit comes.
                    var next = records.MoveNextAsync();
                    if (!next.IsCompletedSuccessfully)
                    {
                        pendingNext = next.AsTask();
                        break;
                    }

                    if (!next.Result)
                    {
                        remaining = 0;
                        break;
                    }
                }

                message.CompleteArray32(countAt, count);
                message.CompleteLength(at);
                await sender.SendEncodedAsync(message.WrittenMemory, ct).ConfigureAwait(false);
                _connection.Counters.RecordsSent(message.Length);
            }
        }
    }
}
