using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using TruthDb.Dataflow.Replication.Nats.Publishing;
using TruthDb.Dataflow.Replication.Nats.Sources;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>One shipping epoch: publishes in LSN order from a resume point until a fault, the end (catch-up) or a stop.</summary>
public sealed partial class NatsReplicator
{
    // Room for the headers of a record (message id, LSN, log id, expectation) within max_payload.
    private const int HeaderAllowance = 512;

    /// <summary>
    /// Ships from <paramref name="start"/>. Returns null when it ended normally (stopped, or caught up
    /// to <paramref name="target"/>), or the fault that ended it: an unknown outcome (retry) or a rejection.
    /// </summary>
    private async Task<WindowFault?> ShipEpochAsync(ResumePoint start, bool follow, long target, CancellationToken ct)
    {
        var epoch = Interlocked.Increment(ref _epoch);
        _window.Reset(start.Lsn, (long)start.LastSequence - start.Lsn);
        var bySequence = _anchorBySequence;
        var replyPrefix = _inbox + "." + epoch.ToString(CultureInfo.InvariantCulture) + ".";
        using var epochCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watchdog = WatchAsync(epochCts);
        try
        {
            await foreach (var record in _source.ReadAsync(start.Lsn + 1, follow, epochCts.Token))
            {
                if (record.Lsn > target || !await WaitForRoomAsync(epochCts.Token))
                {
                    break;
                }

                var lsn = record.Lsn;
                if (lsn != _window.Sent + 1)
                {
                    // The log no longer has the record after the stream's last (retention removed it
                    // between reconciliation and this read; the read starts at the first record kept):
                    // shipping on would leave a gap.
                    throw new StreamMismatchException(start.LastSequence, _window.Sent + 1,
                        $"The stream '{StreamName}' ends at LSN {_window.Sent}, but the log's next record is LSN {lsn}: {Streams.LsnRange.Text(_window.Sent + 1, lsn - 1)} can no longer be shipped (log retention removed them). Replication stops; the stream lacks those records.");
                }

                if (_connection.ServerInfo is { MaxPayload: > 0 } server && record.Payload.Length > server.MaxPayload - HeaderAllowance)
                {
                    // The server would refuse it at the protocol level, forever: a rejection, not an outage.
                    _window.Fail(new WindowFault(true, lsn, 0, $"the record is {record.Payload.Length} bytes, more than the server's max_payload ({server.MaxPayload} bytes) allows with its headers"));
                    break;
                }

                var headers = new NatsHeaders
                {
                    [MessageHeaders.MsgId] = MessageHeaders.MessageId(_logId, lsn),
                    [MessageHeaders.Lsn] = lsn.ToString(CultureInfo.InvariantCulture),
                    [MessageHeaders.LogId] = _logId,
                };
                if (lsn != start.Lsn + 1)
                {
                    // The stream's last message must be the record's predecessor.
                    headers[MessageHeaders.ExpectedLastMsgId] = MessageHeaders.MessageId(_logId, lsn - 1);
                }
                else if (start.Lsn > 0)
                {
                    // The epoch's first record: the stream must still be where reconciliation found it, by
                    // content (its last message) and by position (its last sequence). Only after the server
                    // refused a last message id that the leader's own last message carries (it knows none,
                    // or a stale one) does the sequence stand alone, until a record is stored.
                    if (!bySequence)
                    {
                        headers[MessageHeaders.ExpectedLastMsgId] = MessageHeaders.MessageId(_logId, start.Lsn);
                    }

                    headers[MessageHeaders.ExpectedLastSequence] = start.LastSequence.ToString(CultureInfo.InvariantCulture);
                }
                else
                {
                    // No message of the log in the stream, so no id to name: "no message on the subject
                    // yet", and the last sequence when the stream ever held one (an expected last
                    // sequence of 0 means no check).
                    headers[MessageHeaders.ExpectedLastSubjectSequence] = "0";
                    if (start.LastSequence > 0)
                    {
                        headers[MessageHeaders.ExpectedLastSequence] = start.LastSequence.ToString(CultureInfo.InvariantCulture);
                    }
                }

                _window.Add(lsn, record.Payload.Length, Stopwatch.GetTimestamp());

                // The payload is a view into the log's mapping, valid until the read moves on: the
                // publish has copied it into the connection's buffer when it returns.
                await _connection.PublishAsync(Subject, record.Payload, headers, replyPrefix + lsn.ToString(CultureInfo.InvariantCulture), cancellationToken: epochCts.Token);
            }

            if (!follow)
            {
                await WaitUntilAsync(static w => w.InFlight == 0, epochCts.Token);
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
            await epochCts.CancelAsync();
            await watchdog;
        }

        if (_window.Acked > start.Lsn)
        {
            // A record was stored after the anchor: the server's last message id is right again.
            _anchorBySequence = false;
        }

        if (_window.Fault is null && ct.IsCancellationRequested)
        {
            // A stop request: give what is in flight a chance to be acknowledged, so the cursor is current.
            using var grace = new CancellationTokenSource(_options.AckTimeout);
            try
            {
                await WaitUntilAsync(static w => w.InFlight == 0, grace.Token);
            }
            catch (OperationCanceledException)
            {
                // What was not acknowledged in time is reconciled on the next start.
            }
        }

        return _window.Fault;
    }

    /// <summary>Waits until one more publish may be sent; false when the epoch faulted.</summary>
    private async ValueTask<bool> WaitForRoomAsync(CancellationToken ct)
    {
        while (true)
        {
            if (_window.HasRoom(out var changed))
            {
                return true;
            }

            if (_window.Fault is not null)
            {
                return false;
            }

            await changed.WaitAsync(ct);
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

            await changed.WaitAsync(ct);
        }
    }

    /// <summary>
    /// Every few milliseconds: ends the epoch when it faulted or the oldest publish waited longer than
    /// <see cref="NatsReplicatorOptions.AckTimeout"/> (its outcome is unknown), and commits the cursor
    /// every <see cref="NatsReplicatorOptions.CursorCommitInterval"/> while acknowledgements come in.
    /// </summary>
    private async Task WatchAsync(CancellationTokenSource epoch)
    {
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(_options.AckTimeout.TotalMilliseconds / 10, 5, 50));
        var lastCommit = Stopwatch.GetTimestamp();
        using var timer = new PeriodicTimer(tick);
        try
        {
            while (await timer.WaitForNextTickAsync(epoch.Token))
            {
                if (_window.TryGetOldestPending(out var lsn, out var sent, out var inProcess) && Stopwatch.GetElapsedTime(sent) > _options.AckTimeout)
                {
                    // A message id the leader holds as in process, and no later record stored to prove it:
                    // the earlier proposal was never stored, and the id stays blocked for the duplicate window.
                    _window.Fail(inProcess
                        ? new WindowFault(false, lsn, 0, $"the leader held the message id of LSN {lsn} as in process for {_options.AckTimeout.TotalMilliseconds:0} ms and stored nothing after it; retrying until its duplicate window has passed", RememberedDuplicate: true)
                        : new WindowFault(false, lsn, 0, $"no acknowledgement for LSN {lsn} within {_options.AckTimeout.TotalMilliseconds:0} ms"));
                }

                if (_window.Fault is not null)
                {
                    await epoch.CancelAsync();
                    return;
                }

                if (Stopwatch.GetElapsedTime(lastCommit) >= _options.CursorCommitInterval)
                {
                    await CommitCursorAsync(epoch.Token);
                    lastCommit = Stopwatch.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException) when (epoch.IsCancellationRequested)
        {
            // The epoch ended.
        }
    }

    /// <summary>Reads the acknowledgements of every epoch and applies those of the current one to the window.</summary>
    private async Task PumpAcksAsync(INatsSub<byte[]> sub, CancellationToken ct)
    {
        var prefixLength = _inbox.Length + 1;
        try
        {
            await foreach (var msg in sub.Msgs.ReadAllAsync(ct))
            {
                var rest = msg.Subject.AsSpan(Math.Min(prefixLength, msg.Subject.Length));
                var dot = rest.IndexOf('.');
                if (dot <= 0
                    || !long.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)
                    || !long.TryParse(rest[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var lsn)
                    || epoch != Interlocked.Read(ref _epoch))
                {
                    continue;
                }

                var result = AckResult.From(msg);
                var progress = _window.Complete(lsn, result);
                if (!progress.Matched)
                {
                    continue;
                }

                _instruments.PublishDuration.Record(Stopwatch.GetElapsedTime(progress.SentTimestamp).TotalSeconds, _tag);
                if (progress.Records > 0)
                {
                    Interlocked.Add(ref _recordsShipped, progress.Records);
                    Interlocked.Add(ref _bytesShipped, progress.Bytes);
                    _instruments.RecordsShipped.Add(progress.Records, _tag);
                    _instruments.BytesShipped.Add(progress.Bytes, _tag);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The replicator stopped.
        }
    }
}
