using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using TruthDb.Dataflow.Replication.Nats.Publishing;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>Acknowledgements: the pump that applies them to the window, and the watchdog that times them out.</summary>
public sealed partial class NatsReplicator
{
    /// <summary>
    /// Every few milliseconds: ends the epoch when it faulted or the oldest message waited longer than
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
            while (await timer.WaitForNextTickAsync(epoch.Token).ConfigureAwait(false))
            {
                if (_window.TryGetOldestPending(out var lsn, out var sent, out var inProcess) && Stopwatch.GetElapsedTime(sent) > _options.AckTimeout)
                {
                    // A message id the leader holds as in process, and no later message stored to prove it:
                    // the earlier proposal was never stored, and the id stays blocked for the duplicate window.
                    _window.Fail(inProcess
                        ? new WindowFault(false, lsn, 0, $"the leader held the message id of the message from LSN {lsn} as in process for {_options.AckTimeout.TotalMilliseconds:0} ms and stored nothing after it; retrying until its duplicate window has passed", RememberedDuplicate: true)
                        : new WindowFault(false, lsn, 0, $"no acknowledgement for the message from LSN {lsn} within {_options.AckTimeout.TotalMilliseconds:0} ms"));
                }

                if (_window.Fault is not null)
                {
                    await epoch.CancelAsync().ConfigureAwait(false);
                    return;
                }

                if (Stopwatch.GetElapsedTime(lastCommit) >= _options.CursorCommitInterval)
                {
                    await CommitCursorAsync(epoch.Token).ConfigureAwait(false);
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
            await foreach (var msg in sub.Msgs.ReadAllAsync(ct).ConfigureAwait(false))
            {
                // <inbox>.<epoch>.<message number in the epoch>
                var rest = msg.Subject.AsSpan(Math.Min(prefixLength, msg.Subject.Length));
                var dot = rest.IndexOf('.');
                if (dot <= 0
                    || !long.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)
                    || !long.TryParse(rest[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                    || epoch != Interlocked.Read(ref _epoch))
                {
                    continue;
                }

                var result = AckResult.From(msg);
                var progress = _window.Complete(number, result);
                if (!progress.Matched)
                {
                    continue;
                }

                _instruments.PublishDuration.Record(Stopwatch.GetElapsedTime(progress.SentTimestamp).TotalSeconds, _tag);
                if (progress.Messages > 0)
                {
                    Interlocked.Add(ref _messagesShipped, progress.Messages);
                    Interlocked.Add(ref _recordsShipped, progress.Records);
                    Interlocked.Add(ref _bytesShipped, progress.Bytes);
                    _instruments.MessagesShipped.Add(progress.Messages, _tag);
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
