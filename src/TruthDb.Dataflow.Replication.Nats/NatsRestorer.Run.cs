using System.Diagnostics;
using NATS.Client.Core;
using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Diagnostics;
using TruthDb.Dataflow.Replication.Nats.Restoring;
using TruthDb.Dataflow.Replication.Nats.Streams;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>The outer loop: open the restored log, restore (or follow), and again after an outage.</summary>
public sealed partial class NatsRestorer
{
    private const int AppendDepth = 64;
    private long _target;

    private async Task RunCoreAsync(bool follow, CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("The restorer is already running.");
        }

        try
        {
            _target = 0;
            var backoff = FirstBackoff;
            var lastProgress = Stopwatch.GetTimestamp();
            var lastRestored = Interlocked.Read(ref _restoredLsn);
            while (true)
            {
                string reason;
                try
                {
                    await RunOnceAsync(follow, ct).ConfigureAwait(false);
                    return;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested && follow)
                {
                    return;
                }
                catch (NatsJSApiException ex) when (ApiRefusals.Refusal(ex, StreamName, $"The stream '{StreamName}' does not exist.") is { } refusal)
                {
                    throw refusal;
                }
                catch (Exception ex) when (ex is NatsException or TimeoutException)
                {
                    reason = ex.Message;
                }

                var restored = Interlocked.Read(ref _restoredLsn);
                if (restored != lastRestored)
                {
                    lastRestored = restored;
                    lastProgress = Stopwatch.GetTimestamp();
                    backoff = FirstBackoff;
                }
                else if (_options.RetryLimit != Timeout.InfiniteTimeSpan && Stopwatch.GetElapsedTime(lastProgress) > _options.RetryLimit)
                {
                    throw new ReplicationException($"Nothing could be restored from stream '{StreamName}' for {_options.RetryLimit.TotalSeconds:0} s (last: {reason}); the log in '{Directory}' holds up to LSN {restored}.");
                }

                Interlocked.Increment(ref _retries);
                ReplicationEvents.RestoreRetrying(_logger, StreamName, restored, reason);
                try
                {
                    await Task.Delay(backoff, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (follow)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    // One pass: opens the log (creating it as a copy of the stream's log), restores, closes it.
    private async Task RunOnceAsync(bool follow, CancellationToken ct)
    {
        var stream = await _js.GetStreamAsync(StreamName, cancellationToken: ct).ConfigureAwait(false);
        while (stream.Info.State.Messages == 0)
        {
            if (!follow)
            {
                return;
            }

            await Task.Delay(IdlePoll, ct).ConfigureAwait(false);
            stream = await _js.GetStreamAsync(StreamName, cancellationToken: ct).ConfigureAwait(false);
        }

        var first = await LeaderReads.GetAsync(stream, stream.Info.State.FirstSeq, withData: false, ct).ConfigureAwait(false);
        var logId = SourceLogId(first, stream);
        var existing = ExistingLog(Directory);
        if (existing.LogId is { } id && id != logId)
        {
            throw new ReplicationException(
                $"The log in '{Directory}' is another log (log id {id:N}) than the one stream '{StreamName}' holds (log id {logId:N}): it was not restored from this stream. Restore into an empty directory, or name the stream it was restored from.");
        }

        var segmentSize = existing.SegmentSize > 0 ? existing.SegmentSize : _options.SegmentSize;
        var wal = await Wal.OpenAsync(_options.WalOptions(Directory, logId, first.FirstLsn), ct).ConfigureAwait(false);
        await using (wal.ConfigureAwait(false))
        {
            var session = new Session(wal, new AppendQueue(wal, segmentSize, AppendDepth), new LeaderFetcher(_options.Concurrency), Publishing.MessageHeaders.FormatLogId(logId));
            ReplicationEvents.RestoreOpened(_logger, Directory, StreamName, session.LogId, existing.LogId is null ? "created" : "opened", wal.WrittenLsn);
            try
            {
                await ApplyStreamAsync(session, follow, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested && follow)
            {
                // A stop request: what was appended is acknowledged and made durable before the log closes.
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // What was appended before the failure stays: made durable and reported, then the failure.
                await session.Fetcher.DrainAsync().ConfigureAwait(false);
                await SettleAsync(session, quiet: true).ConfigureAwait(false);
                throw;
            }

            await session.Fetcher.DrainAsync().ConfigureAwait(false);
            await SettleAsync(session, quiet: false).ConfigureAwait(false);
        }
    }

    // Waits for the appends in flight and makes them durable; quiet: after another failure, a failing
    // log does not hide it (what the log holds is reported either way).
    private async Task SettleAsync(Session session, bool quiet)
    {
        try
        {
            await session.Appends.DrainAsync().ConfigureAwait(false);
            Restored(await session.Wal.FlushAsync(CancellationToken.None).ConfigureAwait(false));
        }
        catch (Exception ex) when (quiet && ex is WalFaultedException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            Restored(session.Wal.DurableLsn);
        }
    }

    /// <summary>The log id the stream's messages carry, from its first message (which must be a replicator's).</summary>
    private Guid SourceLogId(in StreamEntry first, INatsJSStream stream)
    {
        if (!first.Exists || !first.Parsed || !Guid.TryParseExact(first.LogId, "N", out var logId))
        {
            throw new ReplicationException(
                $"The stream '{StreamName}' ({LeaderReads.Describe(stream.Info)}) does not hold a replicated log: its first message, sequence {first.Sequence}, {(first.Exists ? "has no TruthDb headers" : "cannot be read")}.");
        }

        return logId;
    }

    /// <summary>The log already in <paramref name="directory"/>: its id and segment size; none when it holds no log.</summary>
    private static (Guid? LogId, long SegmentSize) ExistingLog(string directory)
    {
        if (!System.IO.Directory.Exists(directory) || !System.IO.Directory.EnumerateFiles(directory, "*.wal").Any())
        {
            return (null, 0);
        }

        var stats = Inspection.LogInspector.GetStats(directory);
        return (stats.LogId is { } id ? Guid.ParseExact(id, "N") : null, stats.Segments.Count > 0 ? stats.Segments[0].SegmentSize : 0);
    }

    /// <summary>What one pass works with: the restored log, its appends in flight, the reads in flight and the log id in headers.</summary>
    private sealed record Session(Wal Wal, AppendQueue Appends, LeaderFetcher Fetcher, string LogId);
}
