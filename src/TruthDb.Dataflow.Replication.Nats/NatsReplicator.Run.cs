using System.Diagnostics;
using NATS.Client.Core;
using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Diagnostics;
using TruthDb.Dataflow.Replication.Nats.Streams;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>The outer loop: ensure the stream, reconcile, ship an epoch, and again after an unknown outcome.</summary>
public sealed partial class NatsReplicator
{
    private const int WrongLastMsgId = 10070;
    private const int WrongLastSequence = 10071;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Ships the log until <paramref name="ct"/> is cancelled, following new durable records as they
    /// come. On cancellation it stops sending, waits up to <see cref="NatsReplicatorOptions.AckTimeout"/>
    /// for the publishes in flight, commits the cursor at the acknowledged prefix and returns normally.
    /// </summary>
    /// <exception cref="ReplicationRejectedException">The stream rejected a publish; the exception names the LSN.</exception>
    /// <exception cref="ReplicationException">The stream does not fit or holds another log, or the servers stayed unreachable longer than the retry limit.</exception>
    public Task RunAsync(CancellationToken ct = default) => RunCoreAsync(follow: true, ct);

    /// <summary>
    /// Ships every record durable when it is called, waits for their acknowledgements, commits the
    /// cursor and returns the shipped LSN (also when there was nothing to ship).
    /// </summary>
    /// <exception cref="ReplicationRejectedException">The stream rejected a publish; the exception names the LSN.</exception>
    /// <exception cref="ReplicationException">The stream does not fit or holds another log, or the servers stayed unreachable longer than the retry limit.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled first.</exception>
    public async Task<long> CatchUpAsync(CancellationToken ct = default)
    {
        var target = _source.DurableLsn;
        await RunCoreAsync(follow: false, ct, target).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        return _window.Acked;
    }

    private async Task RunCoreAsync(bool follow, CancellationToken ct, long target = long.MaxValue)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("The replicator is already running.");
        }

        using var stopPump = new CancellationTokenSource();
        Task? pump = null;
        try
        {
            await HoldRetentionAsync(ct).ConfigureAwait(false);
            // Room for every acknowledgement in flight, twice (a late epoch's too): a full channel would
            // drop acknowledgements, which then time out and cost a reconciliation.
            var channel = new NatsSubChannelOpts { Capacity = Math.Max(1024, _options.MaxInFlight * 2), FullMode = System.Threading.Channels.BoundedChannelFullMode.Wait };
            var sub = await SubscribeAcksAsync(new NatsSubOpts { ChannelOpts = channel }, ct).ConfigureAwait(false);
            await using (sub.ConfigureAwait(false))
            {
                pump = PumpAcksAsync(sub, stopPump.Token);
                await LoopAsync(follow, target, ct).ConfigureAwait(false);
                await CommitCursorAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested && follow)
        {
            // A stop request while connecting or reconciling: nothing was in flight.
        }
        finally
        {
            await stopPump.CancelAsync().ConfigureAwait(false);
            if (pump is not null)
            {
                await pump.ConfigureAwait(false);
            }

            Volatile.Write(ref _running, 0);
        }
    }

    // The acknowledgement inbox, subscribed before anything is published: the first NATS operation,
    // so servers that cannot be reached yet are retried here as in the ship loop, up to the retry limit.
    private async Task<INatsSub<byte[]>> SubscribeAcksAsync(NatsSubOpts opts, CancellationToken ct)
    {
        var backoff = FirstBackoff;
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            string reason;
            try
            {
                return await _connection.SubscribeCoreAsync<byte[]>(_inbox + ".>", opts: opts, cancellationToken: ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException)
            {
                reason = ex.Message;
                if (_options.RetryLimit != Timeout.InfiniteTimeSpan && Stopwatch.GetElapsedTime(started) > _options.RetryLimit)
                {
                    throw new ReplicationException($"The NATS servers could not be reached for {_options.RetryLimit.TotalSeconds:0} s (last: {reason}); replication to stream '{StreamName}' did not start.", ex);
                }
            }

            Interlocked.Increment(ref _retries);
            _instruments.Retries.Add(1, _tag);
            ReplicationEvents.Retrying(_logger, StreamName, _window.Acked, reason);
            await Task.Delay(backoff, ct).ConfigureAwait(false);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    private async Task LoopAsync(bool follow, long target, CancellationToken ct)
    {
        var backoff = FirstBackoff;
        var lastProgress = Stopwatch.GetTimestamp();
        var lastAcked = _window.Acked;
        var streamReady = false;
        var waitingForWindow = false;
        while (!ct.IsCancellationRequested)
        {
            string reason;
            try
            {
                if (!streamReady)
                {
                    await EnsureStreamAsync(ct).ConfigureAwait(false);
                    streamReady = true;
                }

                var start = await ReconcileAsync(ct).ConfigureAwait(false);
                if (!follow && start.Lsn >= target)
                {
                    _window.Reset(start.Lsn, start.LastSequence);
                    return;
                }

                var fault = await ShipEpochAsync(start, follow, target, ct).ConfigureAwait(false);
                if (fault is null)
                {
                    return;
                }

                if (fault.Rejected)
                {
                    await ThrowRejectedAsync(fault, ct).ConfigureAwait(false);
                }

                reason = fault.Reason;
                waitingForWindow = fault.RememberedDuplicate;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (NatsJSApiException ex) when (ApiRefusals.Refusal(ex, StreamName, $"The stream '{StreamName}' was deleted while the replicator ran.") is { } refusal)
            {
                throw refusal;
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException)
            {
                reason = ex.Message;
            }

            var acked = _window.Acked;
            if (acked != lastAcked)
            {
                lastAcked = acked;
                lastProgress = Stopwatch.GetTimestamp();
                backoff = FirstBackoff;
            }
            else if (_options.RetryLimit != Timeout.InfiniteTimeSpan && Stopwatch.GetElapsedTime(lastProgress) > _options.RetryLimit + (waitingForWindow ? _duplicateWindow : TimeSpan.Zero))
            {
                if (_lost is { } lost && acked < lost.To)
                {
                    throw new StreamMismatchException(lost.Sequence, lost.From,
                        $"The stream '{StreamName}' lost {Streams.LsnRange.Text(lost.From, lost.To)} after acknowledging them (its last message was LSN {lost.From - 1} at sequence {lost.Sequence}, read through {lost.Where}), and shipping them again has failed for {_options.RetryLimit.TotalSeconds:0} s (last: {reason}); shipped up to LSN {acked}. Replication stops; the stream lacks those records.");
                }

                throw new ReplicationException($"Nothing could be shipped to stream '{StreamName}' for {_options.RetryLimit.TotalSeconds:0} s (last: {reason}); shipped up to LSN {acked}.");
            }

            Interlocked.Increment(ref _retries);
            _instruments.Retries.Add(1, _tag);
            ReplicationEvents.Retrying(_logger, StreamName, acked, reason);
            try
            {
                await Task.Delay(backoff, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    /// <summary>
    /// A rejection stops the replicator, except a failed expectation (wrong last message id or
    /// sequence) while the stream's last message is this log's: then reconciling again moves on.
    /// Either the stream already holds the message's records (a publish from before a reconciliation
    /// that the server stored late; this was the copy), or its last message is the predecessor and the
    /// server did not recognize it (it rebuilds its last message id after a restart only within the
    /// duplicate window, and a replica that caught up by copying the stream keeps a stale one: the next
    /// epoch's first message is then anchored by sequence and checked by content right after it is
    /// stored), or its last message is below the predecessor: the stream lost records it had
    /// acknowledged (a replica that stayed behind became leader), and reconciliation ships them again or stops.
    /// </summary>
    private async Task ThrowRejectedAsync(Publishing.WindowFault fault, CancellationToken ct)
    {
        await CommitCursorAsync(CancellationToken.None).ConfigureAwait(false);
        if (fault.ErrorCode is not (WrongLastMsgId or WrongLastSequence))
        {
            ReplicationEvents.Rejected(_logger, StreamName, fault.Lsn, fault.Reason, fault.ErrorCode, _window.Acked);
            throw new ReplicationRejectedException(fault.Lsn, fault.ErrorCode, fault.Reason);
        }

        Streams.StreamEntry last;
        try
        {
            var stream = await _js.GetStreamAsync(StreamName, cancellationToken: ct).ConfigureAwait(false);
            last = stream.Info.State.Messages == 0
                ? Streams.StreamEntry.Missing(stream.Info.State.LastSeq)
                : await Streams.LeaderReads.GetAsync(stream, stream.Info.State.LastSeq, withData: false, ct).ConfigureAwait(false);
        }
        catch (NatsException)
        {
            last = default;
        }

        if (last.IsOf(_logId))
        {
            var inStream = last.LastLsn;
            if (inStream >= fault.Lsn)
            {
                throw new NatsException($"the publish from LSN {fault.Lsn} was refused as a copy of records the stream already holds");
            }

            if (inStream == fault.Lsn - 1)
            {
                // The leader returns the predecessor as its last message but its last message id says
                // otherwise: it knows none (a restart after the duplicate window) or a stale one (seen on
                // a replica that caught up by copying the stream and became leader). Only a sequence can
                // anchor the next message there, until one is stored, and its content is checked then.
                _anchorBySequence |= fault.ErrorCode == WrongLastMsgId;
                var why = Publishing.MessageHeaders.ForgotLastMsgId(fault.Reason) ? "it knows no last message id" : "its last message id is stale";
                throw new NatsException($"the stream did not recognize {last.Holds} as its last message ({fault.Reason}) although it is ({why}); anchoring the next message by sequence {last.Sequence} and checking it by content once stored");
            }

            throw new NatsException(
                $"the publish from LSN {fault.Lsn} was refused ({fault.Reason}): the stream's last message is now {last.Holds} at sequence {last.Sequence}, below LSN {fault.Lsn - 1} that it had acknowledged; it lost records (a replica that stayed behind became leader?), reconciling");
        }

        ReplicationEvents.Rejected(_logger, StreamName, fault.Lsn, fault.Reason, fault.ErrorCode, _window.Acked);
        throw new ReplicationRejectedException(fault.Lsn, fault.ErrorCode, fault.Reason);
    }

    /// <summary>Commits the cursor at the acknowledged prefix when it moved.</summary>
    private async ValueTask CommitCursorAsync(CancellationToken ct)
    {
        var acked = _window.Acked;
        if (acked > Interlocked.Read(ref _cursorLsn))
        {
            await CommitCursorAsync(acked, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Commits the cursor at <paramref name="lsn"/>; when the mark <see cref="LogNames.AcknowledgedMark"/>
    /// exists below it (records the stream lost were shipped again since), the mark follows, so that it
    /// never holds the log's retention behind the cursor (it is a cursor file too).
    /// </summary>
    private async ValueTask CommitCursorAsync(long lsn, CancellationToken ct)
    {
        await _source.CommitCursorAsync(CursorName, lsn, ct).ConfigureAwait(false);
        Interlocked.Exchange(ref _cursorLsn, lsn);
        if (_markLsn > 0 && lsn > _markLsn)
        {
            await _source.CommitCursorAsync(LogNames.AcknowledgedMark(CursorName), lsn, ct).ConfigureAwait(false);
            _markLsn = lsn;
        }
    }

    /// <summary>
    /// Before anything else: a replicator whose cursor is at 0 (none yet) commits it there, so that the
    /// log's retention keeps every record from now on until it is shipped (as it does for any cursor),
    /// even while the servers cannot be reached.
    /// </summary>
    private async ValueTask HoldRetentionAsync(CancellationToken ct)
    {
        if (_source.GetCursor(CursorName) == 0)
        {
            await _source.CommitCursorAsync(CursorName, 0, ct).ConfigureAwait(false);
        }
    }
}
