using TruthDb.Dataflow.Replication.Nats.Diagnostics;
using TruthDb.Dataflow.Replication.Nats.Streams;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>Reconciliation: where to resume, from what the stream really holds (never from the cursor alone).</summary>
public sealed partial class NatsReplicator
{
    /// <summary>
    /// Reads the stream through its leader and checks that its sequence-to-LSN mapping is continuous
    /// and this log's (<see cref="StreamContinuity"/>; a gap, a duplicate, a regression or a deleted
    /// message throws <see cref="StreamMismatchException"/>), that its last message is of the format this
    /// replicator ships, and that it holds the log's own records (<see cref="HistoryCheck"/>: byte for
    /// byte, so a stream fed by another history of the log, after a failover, is refused). Then it
    /// resumes right after the stream's last LSN L, whatever the cursor says: a cursor behind L is
    /// raised to it (a crash after the acknowledgement, before the cursor commit); a cursor ahead of L
    /// means the stream lost records it had acknowledged (a purge, a recreated stream, a replica that
    /// stayed behind and became leader): the cursor moves back to L (after the mark
    /// <see cref="LogNames.AcknowledgedMark"/> recorded the old position) and the records after L are
    /// shipped again, while the log still has them; when it does not, this throws
    /// <see cref="StreamMismatchException"/>. Crash points: after the mark, before the cursor moved: the
    /// next start finds the same (mark at most the cursor); after the cursor moved: the next start
    /// resumes after L like this one.
    /// </summary>
    private async Task<ResumePoint> ReconcileAsync(CancellationToken ct)
    {
        var stream = await _js.GetStreamAsync(StreamName, cancellationToken: ct).ConfigureAwait(false);
        var end = await StreamContinuity.CheckAsync(_js, stream, _logId, ct).ConfigureAwait(false);
        var last = end.LastLsn;
        var cursor = _source.GetCursor(CursorName);
        var written = _source.WrittenLsn;
        if (last > written)
        {
            throw new ReplicationException(
                $"The stream '{StreamName}' holds LSN {last} of this log, but the log ends at LSN {written}: the log lost records the stream has (restored from an older copy?). Replication cannot go on into this stream.");
        }

        if (end.Last.Exists)
        {
            RequireFormat(end.Last);
            await HistoryCheck.RequireSameAsync(_source, StreamName, LeaderReads.Describe(stream.Info), end.Last, ct).ConfigureAwait(false);
        }

        if (last < _source.DurableLsn)
        {
            var first = await FirstLogLsnAsync(ct).ConfigureAwait(false);
            if (first > last + 1)
            {
                var lost = cursor > last ? $" The cursor says LSN {cursor} was shipped: the stream lost {LsnRange.Text(last + 1, cursor)} after acknowledging them." : string.Empty;
                throw new StreamMismatchException(end.LastSequence, last + 1,
                    $"The stream '{StreamName}' ends at LSN {last} (sequence {end.LastSequence}), but the log's first record is now LSN {first}: {LsnRange.Text(last + 1, first - 1)} can no longer be shipped (log retention removed them).{lost} Replication stops; the stream lacks those records.");
            }
        }

        if (cursor > last)
        {
            // Before the cursor moves back: the mark keeps what the stream had acknowledged, for the audit.
            var mark = LogNames.AcknowledgedMark(CursorName);
            if (_source.GetCursor(mark) < cursor)
            {
                await _source.CommitCursorAsync(mark, cursor, ct).ConfigureAwait(false);
            }

            _markLsn = Math.Max(_markLsn, cursor);

            ReplicationEvents.CursorAhead(_logger, CursorName, cursor, StreamName, last, end.LastSequence);
            _lost = new LostRange(end.LastSequence, last + 1, Math.Max(cursor, _lost?.To ?? 0), LeaderReads.Describe(stream.Info));
        }
        else if (_lost is { } lost && last >= lost.To)
        {
            _lost = null;
        }

        if (last < cursor)
        {
            await _source.CommitCursorAsync(CursorName, last, ct).ConfigureAwait(false);
            Interlocked.Exchange(ref _cursorLsn, last);
        }
        else if (last > cursor)
        {
            await CommitCursorAsync(last, ct).ConfigureAwait(false);
        }
        else
        {
            Interlocked.Exchange(ref _cursorLsn, last);
        }
        ReplicationEvents.Reconciled(_logger, StreamName, end.LastSequence, last, cursor, last + 1);
        return end.Last.Exists
            ? new ResumePoint(last, end.LastSequence, end.Last.MsgId, end.Last.Format == NatsMessageFormat.Batch ? end.Last.Ordinal : 0)
            : new ResumePoint(0, end.LastSequence, null, 0);
    }

    /// <summary>A stream holds one format: its consumers decode its messages by it.</summary>
    private void RequireFormat(in StreamEntry last)
    {
        if (last.Format != _options.Format)
        {
            var holds = last.Format == NatsMessageFormat.Batch ? "batches" : "one record per message";
            var ships = _options.Format == NatsMessageFormat.Batch ? "batches" : "one record per message";
            throw new ReplicationException(
                $"The stream '{StreamName}' holds {holds} (its last message, sequence {last.Sequence}, holds {last.Holds}), but this replicator ships {ships}. A stream holds one format, which its consumers decode: ship with the stream's format (Format = {last.Format}), or into another stream.");
        }

        if (!string.Equals(last.MsgId, last.Headers.ExpectedMsgId, StringComparison.OrdinalIgnoreCase))
        {
            throw new StreamMismatchException(last.Sequence, last.FirstLsn,
                $"The stream '{StreamName}''s last message (sequence {last.Sequence}, {last.Holds}) carries message id '{last.MsgId}', not '{last.Headers.ExpectedMsgId}': no replicator published it so, and the next message cannot be chained to it. Replication stops; 'truthdb replicate --audit' lists every difference.");
        }
    }

    /// <summary>The LSN of the log's first durable record; <see cref="long.MaxValue"/> when it holds none.</summary>
    private async Task<long> FirstLogLsnAsync(CancellationToken ct)
    {
        await foreach (var record in _source.ReadAsync(0, follow: false, ct).ConfigureAwait(false))
        {
            return record.Lsn;
        }

        return long.MaxValue;
    }

    /// <summary>
    /// After a message anchored by sequence alone was stored: its sequence must hold it, and the sequence
    /// before must hold the message reconciliation read there, both read through the leader. A different
    /// predecessor means a leader with another history took it: <see cref="StreamMismatchException"/>,
    /// before anything is built on it. A read that cannot tell (no leader, not there yet) is an unknown
    /// outcome: the epoch ends and reconciliation looks again.
    /// </summary>
    private async Task VerifyAnchorAsync(ResumePoint start, long firstLsn, string msgId, CancellationToken ct)
    {
        var stream = await _js.GetStreamAsync(StreamName, cancellationToken: ct).ConfigureAwait(false);
        var before = await LeaderReads.GetAsync(stream, start.LastSequence, withData: false, ct).ConfigureAwait(false);
        var stored = await LeaderReads.GetAsync(stream, start.LastSequence + 1, withData: false, ct).ConfigureAwait(false);
        if (!stored.IsOf(_logId) || !string.Equals(stored.MsgId, msgId, StringComparison.OrdinalIgnoreCase))
        {
            throw new NATS.Client.Core.NatsException($"the message from LSN {firstLsn}, anchored by sequence {start.LastSequence}, is not at sequence {start.LastSequence + 1} through {LeaderReads.Describe(stream.Info)}; reconciling");
        }

        if (!before.IsOf(_logId) || !string.Equals(before.MsgId, start.LastMsgId, StringComparison.OrdinalIgnoreCase))
        {
            throw new StreamMismatchException(stored.Sequence, firstLsn,
                $"The stream '{StreamName}' stored {stored.Holds} at sequence {stored.Sequence}, anchored by sequence alone (its leader did not recognize its last message id), but sequence {start.LastSequence} now holds {(before.Exists ? before.Parsed ? before.Holds + " (message id '" + before.MsgId + "')" : "a message no replicator published" : "no message")}, not the message '{start.LastMsgId}' read there before ({LeaderReads.Describe(stream.Info)}): a leader with another history took it. Replication stops rather than build on it; 'truthdb replicate --audit' lists every difference.");
        }

        ReplicationEvents.AnchorVerified(_logger, StreamName, stored.Sequence, firstLsn, start.LastSequence);
    }

    /// <summary>LSNs the stream had acknowledged and lost (from reconciliation), until they are in it again.</summary>
    private sealed record LostRange(ulong Sequence, long From, long To, string Where);

    /// <summary>
    /// Resume after <paramref name="Lsn"/>, the stream's last LSN, at stream sequence <paramref name="LastSequence"/>,
    /// chained to the message id <paramref name="LastMsgId"/> there (null when the stream holds no message) whose
    /// batch number is <paramref name="LastOrdinal"/> (0 for none, or for a record message).
    /// </summary>
    private readonly record struct ResumePoint(long Lsn, ulong LastSequence, string? LastMsgId, long LastOrdinal);
}
