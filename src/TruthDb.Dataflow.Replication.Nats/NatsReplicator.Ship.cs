using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using TruthDb.Dataflow.Replication.Nats.Batching;
using TruthDb.Dataflow.Replication.Nats.Publishing;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>One shipping epoch: publishes in LSN order from a resume point until a fault, the end (catch-up) or a stop.</summary>
public sealed partial class NatsReplicator
{
    // Room for a message's headers (message id, LSNs, batch number, log id, expectation) within max_payload.
    private const int HeaderAllowance = 512;

    /// <summary>
    /// Ships from <paramref name="start"/>. Returns null when it ended normally (stopped, or caught up
    /// to <paramref name="target"/>), or the fault that ended it: an unknown outcome (retry) or a rejection.
    /// Records are gathered into a message until it is full (by count or bytes) or the log has no more
    /// durable record for now; then the message is sent as soon as the window has room.
    /// </summary>
    private async Task<WindowFault?> ShipEpochAsync(ResumePoint start, bool follow, long target, CancellationToken ct)
    {
        var epochNumber = Interlocked.Increment(ref _epoch);
        _window.Reset(start.Lsn, start.LastSequence);
        var epoch = new Epoch(start, _inbox + "." + epochNumber.ToString(CultureInfo.InvariantCulture) + ".", _anchorBySequence);
        var builder = new MessageBuilder(_options.Format, _options.BatchMaxRecords, MaxBodyBytes());
        using var epochCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watchdog = WatchAsync(epochCts);
        try
        {
            var next = start.Lsn + 1;

            // The durable watermark as last looked at: asking the log costs a read of its watermarks
            // (a system call for a log of another process), so it is asked again only once reached.
            var durable = 0L;
            await foreach (var record in _source.ReadAsync(next, follow, epochCts.Token).ConfigureAwait(false))
            {
                if (record.Lsn > target)
                {
                    break;
                }

                if (record.Lsn != next)
                {
                    // The log no longer has the record after the stream's last (retention removed it
                    // between reconciliation and this read; the read starts at the first record kept):
                    // shipping on would leave a gap.
                    throw new StreamMismatchException(start.LastSequence, next,
                        $"The stream '{StreamName}' ends at LSN {next - 1}, but the log's next record is LSN {record.Lsn}: {Streams.LsnRange.Text(next, record.Lsn - 1)} can no longer be shipped (log retention removed them). Replication stops; the stream lacks those records.");
                }

                if (!builder.Fits(record.Payload.Length) && !await SendAsync(builder, epoch, epochCts.Token).ConfigureAwait(false))
                {
                    break;
                }

                if (TooLargeForServer(builder, record) is { } tooLarge)
                {
                    // The server would refuse it at the protocol level, forever: a rejection, not an
                    // outage. What was sent before it is acknowledged first, so the cursor gets there.
                    if (builder.Count == 0 || await SendAsync(builder, epoch, epochCts.Token).ConfigureAwait(false))
                    {
                        await WaitUntilAsync(static w => w.InFlight == 0, epochCts.Token).ConfigureAwait(false);
                        _window.Fail(tooLarge);
                    }

                    break;
                }

                builder.Add(record);
                next++;
                if (record.Lsn >= durable)
                {
                    durable = _source.DurableLsn;
                }

                if ((builder.IsFull || epoch.BySequence || record.Lsn >= Math.Min(target, durable))
                    && !await SendAsync(builder, epoch, epochCts.Token).ConfigureAwait(false))
                {
                    break;
                }
            }

            if (builder.Count > 0 && _window.Fault is null && !epochCts.IsCancellationRequested)
            {
                await SendAsync(builder, epoch, epochCts.Token).ConfigureAwait(false);
            }

            if (!follow)
            {
                await WaitUntilAsync(static w => w.InFlight == 0, epochCts.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (epochCts.IsCancellationRequested)
        {
            // A fault (the watchdog cancels the epoch) or a stop request.
        }
        catch (NatsException ex)
        {
            _window.Fail(new WindowFault(false, _window.Acked + 1, 0, "the connection failed: " + ex.Message));
        }
        finally
        {
            await epochCts.CancelAsync().ConfigureAwait(false);
            await watchdog.ConfigureAwait(false);
        }

        if (_window.Fault is null && ct.IsCancellationRequested)
        {
            // A stop request: give what is in flight a chance to be acknowledged, so the cursor is current.
            using var grace = new CancellationTokenSource(_options.AckTimeout);
            try
            {
                await WaitUntilAsync(static w => w.InFlight == 0, grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // What was not acknowledged in time is reconciled on the next start.
            }
        }

        return _window.Fault;
    }

    /// <summary>
    /// Publishes the gathered records as the epoch's next message once the window has room; false when
    /// the epoch faulted meanwhile. Its predecessor's message id is the expected last message id (the
    /// stream's last message, as reconciliation read it, for the epoch's first, with the last sequence
    /// too). Only after the server refused the id of a last message that its leader does hold (it knows
    /// none, or a stale one) does the epoch's first message go anchored by sequence: alone in flight,
    /// and checked by content through the leader before anything is built on it (<see cref="VerifyAnchorAsync"/>).
    /// </summary>
    private async ValueTask<bool> SendAsync(MessageBuilder builder, Epoch epoch, CancellationToken ct)
    {
        var body = builder.Finish();
        if (!await WaitForRoomAsync(body.Length, ct).ConfigureAwait(false))
        {
            return false;
        }

        var batch = _options.Format == NatsMessageFormat.Batch;
        var first = builder.FirstLsn;
        var last = builder.LastLsn;
        var msgId = batch ? MessageHeaders.BatchMessageId(_logId, first, last) : MessageHeaders.MessageId(_logId, first);
        var headers = new NatsHeaders
        {
            [MessageHeaders.MsgId] = msgId,
            [MessageHeaders.LogId] = _logId,
        };
        if (batch)
        {
            headers[MessageHeaders.FirstLsn] = first.ToString(CultureInfo.InvariantCulture);
            headers[MessageHeaders.LastLsn] = last.ToString(CultureInfo.InvariantCulture);
            headers[MessageHeaders.Batch] = epoch.NextOrdinal.ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            headers[MessageHeaders.Lsn] = first.ToString(CultureInfo.InvariantCulture);
        }

        var firstOfEpoch = epoch.Sent == 0;
        if (epoch.PreviousMsgId is { } previous && !epoch.BySequence)
        {
            // The stream's last message must be this one's predecessor.
            headers[MessageHeaders.ExpectedLastMsgId] = previous;
        }
        else if (epoch.PreviousMsgId is null)
        {
            // No message of the log in the stream, so no id to name: "no message on the subject yet".
            // An expected last sequence of 0 means no check, so it is sent only for a stream that held messages.
            headers[MessageHeaders.ExpectedLastSubjectSequence] = "0";
        }

        if (firstOfEpoch && epoch.Start.LastSequence > 0)
        {
            // The epoch's first: the stream must also still be where reconciliation found it, by position.
            headers[MessageHeaders.ExpectedLastSequence] = epoch.Start.LastSequence.ToString(CultureInfo.InvariantCulture);
        }

        var number = _window.Add(first, last, builder.PayloadBytes, body.Length, Stopwatch.GetTimestamp());

        // The body is the builder's buffer: the publish has copied it into the connection's buffer when it returns.
        await _connection.PublishAsync(Subject, body, headers, epoch.ReplyPrefix + number.ToString(CultureInfo.InvariantCulture), cancellationToken: ct).ConfigureAwait(false);
        builder.Clear();
        epoch.PreviousMsgId = msgId;
        epoch.NextOrdinal++;
        epoch.Sent++;
        if (!epoch.BySequence)
        {
            return true;
        }

        await WaitUntilAsync(static w => w.InFlight == 0, ct).ConfigureAwait(false);
        if (_window.Fault is not null)
        {
            return false;
        }

        await VerifyAnchorAsync(epoch.Start, first, msgId, ct).ConfigureAwait(false);
        epoch.BySequence = false;
        _anchorBySequence = false;
        return true;
    }

    /// <summary>The largest body a message may have: the batch limit, within what the server's max_payload leaves beside the headers.</summary>
    private int MaxBodyBytes() => _connection.ServerInfo is { MaxPayload: > HeaderAllowance } server
        ? (int)Math.Min(_options.BatchMaxBytes, server.MaxPayload - HeaderAllowance)
        : _options.BatchMaxBytes;

    /// <summary>
    /// The rejection of a record that cannot travel at all: alone in a message it would exceed the
    /// server's max_payload. Null when it fits (or joins a message that has room for it).
    /// </summary>
    private WindowFault? TooLargeForServer(MessageBuilder builder, in WalRecord record) =>
        _connection.ServerInfo is { MaxPayload: > 0 } server && builder.SizeAlone(record.Payload.Length) > server.MaxPayload - HeaderAllowance
            ? new WindowFault(true, record.Lsn, 0, $"the record is {record.Payload.Length} bytes, more than the server's max_payload ({server.MaxPayload} bytes) allows with its headers")
            : null;

    /// <summary>Waits until one more message, of <paramref name="bodyBytes"/> bytes, may be sent; false when the epoch faulted.</summary>
    private async ValueTask<bool> WaitForRoomAsync(long bodyBytes, CancellationToken ct)
    {
        while (true)
        {
            if (_window.HasRoom(bodyBytes, out var changed))
            {
                return true;
            }

            if (_window.Fault is not null)
            {
                return false;
            }

            await changed.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until <paramref name="done"/> holds for the window, or the epoch faulted.</summary>
    private async Task WaitUntilAsync(Func<AckWindow, bool> done, CancellationToken ct)
    {
        while (true)
        {
            var changed = _window.Changed();
            if (done(_window) || _window.Fault is not null)
            {
                return;
            }

            await changed.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>The state of one shipping epoch's chain: the predecessor's message id and the next batch number.</summary>
    private sealed class Epoch(ResumePoint start, string replyPrefix, bool bySequence)
    {
        public ResumePoint Start { get; } = start;

        public string ReplyPrefix { get; } = replyPrefix;

        public bool BySequence { get; set; } = bySequence;

        public string? PreviousMsgId { get; set; } = start.LastMsgId;

        public long NextOrdinal { get; set; } = start.LastOrdinal + 1;

        public long Sent { get; set; }
    }
}
