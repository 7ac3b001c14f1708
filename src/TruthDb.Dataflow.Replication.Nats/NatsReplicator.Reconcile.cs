using TruthDb.Dataflow.Replication.Nats.Diagnostics;
using TruthDb.Dataflow.Replication.Nats.Sources;
using TruthDb.Dataflow.Replication.Nats.Streams;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>Reconciliation: where to resume, from what the stream really holds (never from the cursor alone).</summary>
public sealed partial class NatsReplicator
{
    /// <summary>
    /// Reads the stream through its leader and checks that its sequence-to-LSN mapping is continuous
    /// and this log's (<see cref="StreamContinuity"/>; a gap, a duplicate, a regression or a deleted
    /// message throws <see cref="StreamMismatchException"/>), then resumes right after the stream's last
    /// LSN L, whatever the cursor says: a cursor behind L is raised to it (a crash after the
    /// acknowledgement, before the cursor commit); a cursor ahead of L means the stream lost records it
    /// had acknowledged (a purge, a recreated stream, a replica that stayed behind and became leader):
    /// the cursor moves back to L (after the mark <see cref="LogNames.AcknowledgedMark"/> recorded the old
    /// position) and the records after L are shipped again, while the log still has them; when it does
    /// not, this throws <see cref="StreamMismatchException"/>. Crash points: after the mark, before the
    /// cursor moved: the next start finds the same (mark at most the cursor); after the cursor moved:
    /// the next start resumes after L like this one.
    /// </summary>
    private async Task<ResumePoint> ReconcileAsync(CancellationToken ct)
    {
        var stream = await _js.GetStreamAsync(StreamName, cancellationToken: ct);
        var end = await StreamContinuity.CheckAsync(_js, stream, _logId, ct);
        var last = end.LastLsn;
        var cursor = _source.GetCursor(CursorName);
        var written = _source.WrittenLsn;
        if (last > written)
        {
            throw new ReplicationException(
                $"The stream '{StreamName}' holds LSN {last} of this log, but the log ends at LSN {written}: the log lost records the stream has (restored from an older copy?). Replication cannot go on into this stream.");
        }

        if (last < _source.DurableLsn)
        {
            var first = await FirstLogLsnAsync(ct);
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
                await _source.CommitCursorAsync(mark, cursor, ct);
            }

            ReplicationEvents.CursorAhead(_logger, CursorName, cursor, StreamName, last, end.LastSequence);
            _lost = new LostRange(end.LastSequence, last + 1, Math.Max(cursor, _lost?.To ?? 0), LeaderReads.Describe(stream.Info));
        }
        else if (_lost is { } lost && last >= lost.To)
        {
            _lost = null;
        }

        if (last != cursor)
        {
            await _source.CommitCursorAsync(CursorName, last, ct);
        }

        Interlocked.Exchange(ref _cursorLsn, last);
        ReplicationEvents.Reconciled(_logger, StreamName, end.LastSequence, last, cursor, last + 1);
        return new ResumePoint(last, end.LastSequence);
    }

    /// <summary>The LSN of the log's first durable record; <see cref="long.MaxValue"/> when it holds none.</summary>
    private async Task<long> FirstLogLsnAsync(CancellationToken ct)
    {
        await foreach (var record in _source.ReadAsync(0, follow: false, ct))
        {
            return record.Lsn;
        }

        return long.MaxValue;
    }

    /// <summary>LSNs the stream had acknowledged and lost (from reconciliation), until they are in it again.</summary>
    private sealed record LostRange(ulong Sequence, long From, long To, string Where);

    /// <summary>Resume after <paramref name="Lsn"/>, the stream's last LSN, at stream sequence <paramref name="LastSequence"/>.</summary>
    private readonly record struct ResumePoint(long Lsn, ulong LastSequence);
}
