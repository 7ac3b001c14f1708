using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace TruthDb.Dataflow.Replication.Nats.Streams;

/// <summary>The end of a stream whose mapping was checked: its last sequence and the LSN there (0 when it holds no message).</summary>
internal readonly record struct StreamEnd(ulong LastSequence, long LastLsn);

/// <summary>
/// Checks, cheaply, that a stream's sequence-to-LSN mapping is continuous before the replicator builds
/// on it: a replicated stream holds LSN a, a+1, ..., b at consecutive sequences, so LSN minus sequence
/// is the same for every message. Through the stream leader (<see cref="LeaderReads"/>) it reads the
/// state (first and last sequence, message count, deleted count), the first and last messages, a few
/// probes across the stream and the last <see cref="TailProbes"/> messages (the region the next
/// publishes build on); where a probe breaks the rule, a binary search on LSN minus sequence finds two
/// neighbouring sequences that break it, and the error names them. It cannot see a gap balanced by a
/// duplicate between two probes: the audit (<see cref="StreamAuditor"/>) reads every message.
/// </summary>
internal static class StreamContinuity
{
    /// <summary>Messages at the stream's end that are read one by one.</summary>
    public const int TailProbes = 16;

    private const int SpreadProbes = 4;

    /// <summary>Checks the stream described by <paramref name="stream"/>'s info (fetched just before); throws <see cref="StreamMismatchException"/> or <see cref="ReplicationException"/>.</summary>
    public static async Task<StreamEnd> CheckAsync(INatsJSContext js, INatsJSStream stream, string logId, CancellationToken ct)
    {
        var info = stream.Info;
        var state = info.State;
        var name = info.Config.Name ?? string.Empty;
        var where = LeaderReads.Describe(info);
        if (state.Messages == 0)
        {
            return new StreamEnd(state.LastSeq, 0);
        }

        var firstSeq = state.FirstSeq;
        var lastSeq = state.LastSeq;
        var first = await LeaderReads.GetAsync(stream, firstSeq, withData: false, ct);
        RequireOurs(first, name, where, logId);
        var offset = first.Lsn - (long)firstSeq;

        var span = lastSeq - firstSeq + 1;
        if (state.NumDeleted > 0 || (ulong)state.Messages != span)
        {
            await ThrowDeletedAsync(js, stream, name, where, state, ct);
        }

        var probes = new SortedSet<ulong> { lastSeq };
        for (var i = 1; i < SpreadProbes; i++)
        {
            probes.Add(firstSeq + (span * (ulong)i / SpreadProbes));
        }

        for (ulong i = 1; i < TailProbes && i < span; i++)
        {
            probes.Add(lastSeq - i);
        }

        var good = first;
        foreach (var sequence in probes)
        {
            var entry = await LeaderReads.GetAsync(stream, sequence, withData: false, ct);
            if (Fits(entry, logId, offset))
            {
                good = entry;
                continue;
            }

            var bad = entry;

            // Two neighbours that break the rule: good fits it, bad does not.
            while (bad.Sequence - good.Sequence > 1)
            {
                var middle = await LeaderReads.GetAsync(stream, good.Sequence + ((bad.Sequence - good.Sequence) / 2), withData: false, ct);
                if (Fits(middle, logId, offset))
                {
                    good = middle;
                }
                else
                {
                    bad = middle;
                }
            }

            throw Discontinuity(name, where, good, bad, logId);
        }

        // The last probe is the stream's last sequence: good is there.
        return new StreamEnd(lastSeq, good.Lsn);
    }

    private static bool Fits(in StreamEntry entry, string logId, long offset) =>
        entry.IsOf(logId) && entry.Lsn - (long)entry.Sequence == offset;

    private static void RequireOurs(in StreamEntry entry, string name, string where, string logId)
    {
        if (!entry.Exists)
        {
            throw new ReplicationException($"The stream '{name}' ({where}) reports sequence {entry.Sequence} as its first, but returns no message there; try again once the stream has a stable leader.");
        }

        if (!entry.Parsed)
        {
            throw new ReplicationException(
                $"The message at sequence {entry.Sequence} of stream '{name}' was not published by a TruthDb replicator (no TruthDb-Lsn and TruthDb-Log-Id headers). A replicated stream must hold one log only.");
        }

        if (!entry.IsOf(logId))
        {
            throw new ReplicationException(
                $"The stream '{name}' is fed by another log: its message at sequence {entry.Sequence} (LSN {entry.Lsn}) has log id {entry.LogId}, this log's id is {logId}. Use another stream or subject.");
        }
    }

    private static async Task ThrowDeletedAsync(INatsJSContext js, INatsJSStream stream, string name, string where, StreamState state, CancellationToken ct)
    {
        var detailed = await js.GetStreamAsync(name, new StreamInfoRequest { DeletedDetails = true }, ct);
        var deleted = detailed.Info.State.Deleted is { Count: > 0 } list ? (ulong)list.Min() : 0;
        if (deleted > state.FirstSeq)
        {
            var before = await LeaderReads.GetAsync(stream, deleted - 1, withData: false, ct);
            var lsn = before.Parsed ? before.Lsn + 1 : 0;
            throw new StreamMismatchException(deleted, lsn,
                $"The stream '{name}' is not continuous ({where}): sequence {deleted} holds no message (deleted), after sequence {deleted - 1} with LSN {before.Lsn}; LSN {lsn} is missing there ({state.NumDeleted} deleted message(s) between sequences {state.FirstSeq} and {state.LastSeq}). Replication stops rather than ship past a gap; 'truthdb replicate --audit' lists every difference.");
        }

        throw new StreamMismatchException(state.LastSeq, 0,
            $"The stream '{name}' is not continuous ({where}): it holds {state.Messages} message(s) at sequences {state.FirstSeq} to {state.LastSeq}, so some sequence in between holds none. Replication stops rather than ship past a gap; 'truthdb replicate --audit' lists every difference.");
    }

    private static StreamMismatchException Discontinuity(string name, string where, in StreamEntry good, in StreamEntry bad, string logId)
    {
        var prefix = $"The stream '{name}' is not continuous ({where}): sequence {good.Sequence} holds LSN {good.Lsn}, ";
        const string Suffix = " Replication stops rather than ship past it; 'truthdb replicate --audit' lists every difference.";
        if (!bad.Exists)
        {
            return new StreamMismatchException(bad.Sequence, good.Lsn + 1, prefix + $"sequence {bad.Sequence} holds no message: LSN {good.Lsn + 1} is missing there." + Suffix);
        }

        if (!bad.IsOf(logId))
        {
            var what = bad.Parsed ? $"a record of another log (log id {bad.LogId}, LSN {bad.Lsn})" : "a message that no TruthDb replicator published";
            return new StreamMismatchException(bad.Sequence, good.Lsn + 1, prefix + $"sequence {bad.Sequence} holds {what}." + Suffix);
        }

        if (bad.Lsn > good.Lsn)
        {
            return new StreamMismatchException(bad.Sequence, good.Lsn + 1, prefix + $"sequence {bad.Sequence} holds LSN {bad.Lsn}: {LsnRange.Text(good.Lsn + 1, bad.Lsn - 1)} missing (a gap)." + Suffix);
        }

        var kind = bad.Lsn == good.Lsn ? "the same LSN again (a duplicate)" : $"LSN {bad.Lsn}, lower (the LSNs go back)";
        return new StreamMismatchException(bad.Sequence, bad.Lsn, prefix + $"sequence {bad.Sequence} holds {kind}." + Suffix);
    }
}
