using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Batching;
using TruthDb.Dataflow.Replication.Nats.Diagnostics;
using TruthDb.Dataflow.Replication.Nats.Streams;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>Finding the place in the stream, and applying its messages to the restored log in order.</summary>
public sealed partial class NatsRestorer
{
    private const string Suffix = " The restore stops rather than skip it; 'truthdb replicate --audit' on the source lists every difference.";

    // Positions, reads and applies until the stream has nothing more (or, following, until cancelled).
    private async Task ApplyStreamAsync(Session session, bool follow, CancellationToken ct)
    {
        var idle = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            await session.Appends.DrainAsync().ConfigureAwait(false);
            var stream = await _js.GetStreamAsync(StreamName, cancellationToken: ct).ConfigureAwait(false);
            var start = await PositionAsync(session, stream, ct).ConfigureAwait(false);
            if (start == 0)
            {
                if (!follow)
                {
                    return;
                }

                // Nothing beyond the restored log: look again, backing off while the stream is idle.
                await Task.Delay(idle, ct).ConfigureAwait(false);
                idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, IdlePoll.Ticks));
                continue;
            }

            idle = TimeSpan.FromMilliseconds(5);
            await session.Fetcher.StartAsync(stream, start, stream.Info.State.LastSeq, ct).ConfigureAwait(false);
            if (!await FollowAsync(session, stream, follow, ct).ConfigureAwait(false))
            {
                return;
            }

            // The stream changed under the restorer: find the place again.
            Interlocked.Increment(ref _retries);
        }
    }

    // Applies messages in sequence order; false when done, true when the place must be found again.
    private async Task<bool> FollowAsync(Session session, INatsJSStream stream, bool follow, CancellationToken ct)
    {
        StreamEntry? previous = null;
        var idle = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            if (!follow && ReachedTarget(session))
            {
                return false;
            }

            if (!session.Fetcher.HasMore)
            {
                var info = (await _js.GetStreamAsync(StreamName, cancellationToken: ct).ConfigureAwait(false)).Info;
                if (info.State.LastSeq >= session.Fetcher.Position)
                {
                    // The stream went on: read on, and note how far it goes (for the lag).
                    var end = await LeaderReads.GetAsync(stream, info.State.LastSeq, withData: false, ct).ConfigureAwait(false);
                    if (end.Parsed)
                    {
                        Interlocked.Exchange(ref _streamLsn, end.LastLsn);
                    }

                    idle = TimeSpan.FromMilliseconds(5);
                    session.Fetcher.Extend(info.State.LastSeq);
                    continue;
                }

                if (previous is { } last && info.State.LastSeq < last.Sequence)
                {
                    ReplicationEvents.RestoreRepositioning(_logger, StreamName, $"the stream now ends at sequence {info.State.LastSeq}, before sequence {last.Sequence} that the restore applied (it lost its tail)");
                    return true;
                }

                if (!follow)
                {
                    return false;
                }

                await session.Appends.DrainAsync().ConfigureAwait(false);
                Restored(session.Wal.DurableLsn);
                await Task.Delay(idle, ct).ConfigureAwait(false);
                idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, IdlePoll.Ticks));
                continue;
            }

            var entry = await session.Fetcher.NextAsync().ConfigureAwait(false);
            if (!await ApplyAsync(session, stream, entry, previous, ct).ConfigureAwait(false))
            {
                return true;
            }

            previous = entry;
            Restored(session.Wal.DurableLsn);
        }
    }

    // Restoring what the stream holds "now": every sequence up to its last one when the place was found.
    private bool ReachedTarget(Session session) => _target > 0 && session.Fetcher.Position > (ulong)_target;

    /// <summary>
    /// Applies one message: false when it does not follow the restored log and the stream changed
    /// under the restorer (its place must be found again); throws when the stream itself has a gap or a
    /// regression there, holds another log or another history of this one, or a damaged message.
    /// </summary>
    private async Task<bool> ApplyAsync(Session session, INatsJSStream stream, StreamEntry entry, StreamEntry? previous, CancellationToken ct)
    {
        var next = session.Appends.Appended + 1;
        var where = LeaderReads.Describe(stream.Info);
        if (!entry.Exists)
        {
            var info = (await _js.GetStreamAsync(StreamName, cancellationToken: ct).ConfigureAwait(false)).Info;
            if (info.State.LastSeq < entry.Sequence)
            {
                ReplicationEvents.RestoreRepositioning(_logger, StreamName, $"sequence {entry.Sequence} is gone (the stream now ends at sequence {info.State.LastSeq})");
                return false;
            }

            throw new StreamMismatchException(entry.Sequence, next,
                $"The stream '{StreamName}' is not continuous ({where}): sequence {entry.Sequence} holds no message (deleted); LSN {next} is missing there." + Suffix);
        }

        if (!entry.IsOf(session.LogId))
        {
            var what = entry.Parsed ? $"a message of another log (log id {entry.LogId}, {entry.Holds})" : "a message that no TruthDb replicator published";
            throw new StreamMismatchException(entry.Sequence, next, $"The stream '{StreamName}' ({where}) holds {what} at sequence {entry.Sequence}, where LSN {next} of log {session.LogId} should be." + Suffix);
        }

        if (!MessageRecords.TryOpen(entry.Headers, entry.Data ?? [], out var records, out var problem))
        {
            throw new StreamMismatchException(entry.Sequence, entry.FirstLsn, $"The stream '{StreamName}''s message at sequence {entry.Sequence} ({entry.Holds}, {where}) cannot be read: {problem}." + Suffix);
        }

        if (entry.FirstLsn > next || (entry.FirstLsn < next && previous is not null))
        {
            if (previous is { } before && await StillHoldsAsync(stream, before, ct).ConfigureAwait(false))
            {
                // The stream, as its leader holds it, breaks continuity between the two.
                throw StreamContinuity.Discontinuity(StreamName, where, before, entry, session.LogId, Suffix);
            }

            if (previous is null)
            {
                throw new StreamMismatchException(entry.Sequence, next,
                    $"The stream '{StreamName}' ({where}) holds no LSN {next}: the message that should hold it, sequence {entry.Sequence}, holds {entry.Holds}; {LsnRange.Text(next, entry.FirstLsn - 1)} missing (a gap)." + Suffix);
            }

            ReplicationEvents.RestoreRepositioning(_logger, StreamName, $"sequence {entry.Sequence} holds {entry.Holds}, but the restored log ends at LSN {next - 1}, and sequence {previous.Value.Sequence} no longer holds the message applied from it");
            return false;
        }

        await CompareAndAppendAsync(session, entry, records, where, ct).ConfigureAwait(false);
        Interlocked.Increment(ref _messagesRestored);
        if (entry.LastLsn > Interlocked.Read(ref _streamLsn))
        {
            Interlocked.Exchange(ref _streamLsn, entry.LastLsn);
        }

        return true;
    }

    // The records up to the restored log's end are compared with it (right after finding the place);
    // the rest are appended.
    private async Task CompareAndAppendAsync(Session session, StreamEntry entry, MessageRecords records, string where, CancellationToken ct)
    {
        var end = session.Appends.Appended;
        IAsyncEnumerator<WalRecord>? local = null;
        try
        {
            foreach (var record in records)
            {
                if (record.Lsn > end)
                {
                    await session.Appends.AddAsync(record).ConfigureAwait(false);
                    Interlocked.Increment(ref _recordsRestored);
                    Interlocked.Add(ref _bytesRestored, record.Payload.Length);
                    continue;
                }

                local ??= session.Wal.ReadAsync(record.Lsn, new ReadOptions { Watermark = WalWatermark.Written, StartAtFirstAvailable = true }, ct).GetAsyncEnumerator(ct);
                if (!await MoveToAsync(local, record.Lsn).ConfigureAwait(false))
                {
                    // The restored log no longer has it (its own retention): nothing to compare.
                    continue;
                }

                if (!local.Current.Payload.Span.SequenceEqual(record.Payload.Span))
                {
                    throw new StreamMismatchException(entry.Sequence, record.Lsn,
                        $"The stream '{StreamName}' holds another history of the log in '{Directory}': its message at sequence {entry.Sequence} ({entry.Holds}, {where}) has other bytes for LSN {record.Lsn} ({record.Payload.Length} bytes) than the restored log ({local.Current.Payload.Length} bytes). The log was restored from another copy of it, or written to after it was restored (promoted); it cannot follow this stream. Restore into an empty directory.");
                }
            }

            await session.Appends.SendAsync().ConfigureAwait(false);
        }
        finally
        {
            if (local is not null)
            {
                await local.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask<bool> MoveToAsync(IAsyncEnumerator<WalRecord> local, long lsn)
    {
        do
        {
            if (local.Current.Lsn == lsn)
            {
                return true;
            }
        }
        while ((local.Current.Lsn < lsn || local.Current.Lsn == 0) && await local.MoveNextAsync().ConfigureAwait(false));

        return local.Current.Lsn == lsn;
    }

    // True when the leader still holds, at its sequence, the message the restore applied.
    private static async Task<bool> StillHoldsAsync(INatsJSStream stream, StreamEntry applied, CancellationToken ct)
    {
        var now = await LeaderReads.GetAsync(stream, applied.Sequence, withData: false, ct).ConfigureAwait(false);
        return now.Exists && string.Equals(now.MsgId, applied.MsgId, StringComparison.Ordinal) && now.FirstLsn == applied.FirstLsn && now.LastLsn == applied.LastLsn;
    }

    /// <summary>
    /// The sequence to read from: the message holding the restored log's last LSN W (whose records up
    /// to W are compared), or W + 1 when the log holds no record the stream has; 0 when the stream holds
    /// nothing after W. Found through the leader by a binary search on the messages' last LSNs.
    /// </summary>
    private async Task<ulong> PositionAsync(Session session, INatsJSStream stream, CancellationToken ct)
    {
        var state = stream.Info.State;
        var written = session.Appends.Appended;
        if (state.Messages == 0)
        {
            return 0;
        }

        var where = LeaderReads.Describe(stream.Info);
        var first = await OurEntryAsync(session, stream, state.FirstSeq, where, ct).ConfigureAwait(false);
        var last = await OurEntryAsync(session, stream, state.LastSeq, where, ct).ConfigureAwait(false);
        Interlocked.Exchange(ref _streamLsn, last.LastLsn);
        _target = (long)state.LastSeq;

        if (written + 1 < first.FirstLsn)
        {
            throw new StreamMismatchException(state.FirstSeq, written + 1,
                $"The stream '{StreamName}' starts at LSN {first.FirstLsn} (sequence {state.FirstSeq}, {where}), but the log in '{Directory}' ends at LSN {written}: {LsnRange.Text(written + 1, first.FirstLsn - 1)} are in neither, so the log cannot go on from this stream. Restore into an empty directory.");
        }

        if (last.LastLsn <= written)
        {
            if (last.LastLsn < written)
            {
                ReplicationEvents.RestoreAhead(_logger, Directory, written, StreamName, last.LastLsn);
            }

            return 0;
        }

        var target = written >= first.FirstLsn ? written : written + 1;
        var lo = state.FirstSeq;
        var hi = state.LastSeq;
        while (lo < hi)
        {
            var middle = lo + ((hi - lo) / 2);
            var entry = await OurEntryAsync(session, stream, middle, where, ct).ConfigureAwait(false);
            if (entry.LastLsn >= target)
            {
                hi = middle;
            }
            else
            {
                lo = middle + 1;
            }
        }

        ReplicationEvents.RestorePositioned(_logger, StreamName, lo, written);
        return lo;
    }

    private async Task<StreamEntry> OurEntryAsync(Session session, INatsJSStream stream, ulong sequence, string where, CancellationToken ct)
    {
        var entry = await LeaderReads.GetAsync(stream, sequence, withData: false, ct).ConfigureAwait(false);
        if (!entry.Exists)
        {
            throw new NATS.Client.Core.NatsException($"sequence {sequence} of stream '{StreamName}' cannot be read through {where} now");
        }

        if (!entry.IsOf(session.LogId))
        {
            var what = entry.Parsed ? $"a message of another log (log id {entry.LogId})" : "a message that no TruthDb replicator published";
            throw new StreamMismatchException(sequence, 0, $"The stream '{StreamName}' ({where}) holds {what} at sequence {sequence}: it is not a stream of log {session.LogId} alone." + Suffix);
        }

        return entry;
    }
}
