using TruthDb.Dataflow.Replication.Nats.Batching;
using TruthDb.Dataflow.Replication.Nats.Streams;

namespace TruthDb.Dataflow.Replication.Nats.Auditing;

/// <summary>
/// Walks a stream's messages in sequence order, and every record each carries (one, or a batch), and
/// counts and lists every difference from the log.
/// </summary>
internal sealed class AuditTally(string logId, LogLookup log, int maxListed)
{
    private readonly List<StreamAuditFinding> _listed = [];
    private readonly LsnSet _seen = new();

    public long Sequences { get; private set; }

    public long FirstLsn { get; private set; }

    public long LastLsn { get; private set; }

    public long VerifiedMessages { get; private set; }

    public long VerifiedRecords { get; private set; }

    public long Uncomparable { get; private set; }

    public long Missing { get; private set; }

    public long Duplicates { get; private set; }

    public long OutOfOrder { get; private set; }

    public long Mismatches { get; private set; }

    public long Foreign { get; private set; }

    public long Deleted { get; private set; }

    public long NotInLog { get; private set; }

    public long Findings { get; private set; }

    public IReadOnlyList<StreamAuditFinding> Listed => _listed;

    /// <summary>Takes the next sequence of the stream.</summary>
    public async ValueTask AddAsync(StreamEntry entry)
    {
        Sequences++;
        var seq = entry.Sequence;
        if (!entry.Exists)
        {
            Deleted++;
            Find(StreamAuditFindingKind.Deleted, seq, LastLsn + 1, $"sequence {seq} holds no message (deleted)");
            return;
        }

        if (!entry.IsOf(logId))
        {
            Foreign++;
            Find(StreamAuditFindingKind.Foreign, seq, 0, entry.Parsed
                ? $"sequence {seq} holds {entry.Holds} of another log (log id {entry.LogId})"
                : $"sequence {seq} holds a message without TruthDb headers");
            return;
        }

        var expectedId = entry.Headers.ExpectedMsgId;
        var idMatches = string.Equals(entry.MsgId, expectedId, StringComparison.OrdinalIgnoreCase);
        if (!idMatches)
        {
            Mismatches++;
            Find(StreamAuditFindingKind.Mismatch, seq, entry.FirstLsn, $"mismatch: sequence {seq}, {entry.Holds} has message id '{entry.MsgId}', not '{expectedId}'");
        }

        if (!MessageRecords.TryOpen(entry.Headers, entry.Data ?? [], out var records, out var problem))
        {
            Mismatches++;
            Find(StreamAuditFindingKind.Mismatch, seq, entry.FirstLsn, $"mismatch: sequence {seq}, {entry.Holds} cannot be read: {problem}");
            for (var lsn = entry.FirstLsn; lsn <= entry.LastLsn; lsn++)
            {
                Place(seq, lsn);
            }

            return;
        }

        var exact = idMatches;
        foreach (var record in records)
        {
            var placed = Place(seq, record.Lsn);
            if (idMatches && placed)
            {
                exact &= await CompareAsync(seq, record).ConfigureAwait(false);
            }
            else
            {
                exact = false;
            }
        }

        if (exact)
        {
            VerifiedMessages++;
        }
    }

    /// <summary>After the last message: the LSNs the stream should start with and reach (the cursor).</summary>
    public void Finish(ulong firstSequence, ulong lastSequence, long cursor, long acknowledged)
    {
        if (FirstLsn > 0 && log.FirstLsn < FirstLsn)
        {
            var from = Math.Max(1, log.FirstLsn);
            Missing += FirstLsn - from;
            Find(StreamAuditFindingKind.Gap, firstSequence, from, $"gap: {LsnRange.Text(from, FirstLsn - 1)} missing: the stream starts with LSN {FirstLsn} at sequence {firstSequence}, the log holds them");
        }

        if (acknowledged > LastLsn)
        {
            var from = LastLsn + 1;
            Missing += acknowledged - LastLsn;
            var evidence = cursor == acknowledged
                ? "the cursor says they were shipped"
                : $"the stream had acknowledged them (the replicator's mark is at LSN {acknowledged}, its cursor at {cursor})";
            Find(StreamAuditFindingKind.Gap, lastSequence, from, $"gap: {LsnRange.Text(from, acknowledged)} missing: {evidence}, the stream's last LSN is {LastLsn}");
        }
    }

    /// <summary>A finding the caller made (the leader changed).</summary>
    public void Find(StreamAuditFindingKind kind, ulong sequence, long lsn, string description)
    {
        Findings++;
        if (_listed.Count < maxListed)
        {
            _listed.Add(new StreamAuditFinding(kind, sequence, lsn, description));
        }
    }

    // Places LSN lsn at sequence seq in the order of LSNs: a gap before it, a duplicate or an LSN out of
    // order are findings. True when it is the LSN's first appearance in the stream.
    private bool Place(ulong seq, long lsn)
    {
        var first = true;
        if (FirstLsn == 0)
        {
            FirstLsn = lsn;
            LastLsn = lsn;
        }
        else if (lsn > LastLsn + 1)
        {
            Missing += lsn - LastLsn - 1;
            Find(StreamAuditFindingKind.Gap, seq, LastLsn + 1, $"gap: {LsnRange.Text(LastLsn + 1, lsn - 1)} missing before sequence {seq} (which holds LSN {lsn}; the LSN before it is {LastLsn})");
            LastLsn = lsn;
        }
        else if (lsn <= LastLsn)
        {
            if (_seen.Add(lsn))
            {
                OutOfOrder++;
                Missing--;
                Find(StreamAuditFindingKind.OutOfOrder, seq, lsn, $"sequence {seq} holds LSN {lsn} after LSN {LastLsn} (out of order)");
            }
            else
            {
                Duplicates++;
                first = false;
                Find(StreamAuditFindingKind.Duplicate, seq, lsn, $"duplicate: sequence {seq} holds LSN {lsn} again (the LSN before it is {LastLsn})");
            }
        }
        else
        {
            LastLsn = lsn;
        }

        _seen.Add(lsn);
        return first;
    }

    private async ValueTask<bool> CompareAsync(ulong seq, WalRecord record)
    {
        var lsn = record.Lsn;
        if (lsn < log.FirstLsn)
        {
            Uncomparable++;
            return true;
        }

        var comparison = await log.CompareAsync(lsn, record.Payload).ConfigureAwait(false);
        if (!comparison.InLog)
        {
            NotInLog++;
            Find(StreamAuditFindingKind.NotInLog, seq, lsn, $"sequence {seq} holds LSN {lsn}, which the log does not have");
            return false;
        }

        if (!comparison.Equal)
        {
            Mismatches++;
            Find(StreamAuditFindingKind.Mismatch, seq, lsn, $"mismatch: sequence {seq}, LSN {lsn}: the stream's {record.Payload.Length} bytes differ from the log's {comparison.LogLength} bytes from byte {comparison.FirstDifference} on");
            return false;
        }

        VerifiedRecords++;
        return true;
    }
}
