using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace TruthDb.Dataflow.Replication.Nats.Streams;

/// <summary>The end of a stream whose mapping was checked: its last sequence and the message there (with its body), absent when it holds none.</summary>
internal readonly record struct StreamEnd(ulong LastSequence, StreamEntry Last)
{
    /// <summary>The last LSN in the stream; 0 when it holds no message.</summary>
    public long LastLsn => Last.Exists ? Last.LastLsn : 0;
}

/// <summary>
/// Checks, cheaply, that a stream's sequence-to-LSN mapping is continuous before the replicator or the
/// restore builds on it. A replicated stream holds consecutive LSN ranges at consecutive sequences:
/// each message starts right after its predecessor's last LSN, and its ordinal (a record's LSN, a
/// batch's number) minus its sequence is the same for every message. Through the stream leader
/// (<see cref="LeaderReads"/>) it reads the state (first and last sequence, message count, deleted count),
/// the first and last messages, a few probes across the stream and the last <see cref="TailProbes"/>
/// messages (the region the next publishes build on): every one must be this log's, of one format, with
/// the same ordinal minus sequence, and neighbours must chain. Where a probe breaks the rule, a binary
/// search on ordinal minus sequence finds two neighbouring sequences that break it, and the error names
/// them. It cannot see a gap balanced by a duplicate between two probes: the audit
/// (<see cref="StreamAuditor"/>) reads every message.
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
            return new StreamEnd(state.LastSeq, StreamEntry.Missing(state.LastSeq));
        }

        var firstSeq = state.FirstSeq;
        var lastSeq = state.LastSeq;
        var first = await LeaderReads.GetAsync(stream, firstSeq, withData: firstSeq == lastSeq, ct).ConfigureAwait(false);
        RequireOurs(first, name, where, logId);
        var rule = new Rule(logId, first.Format, first.Ordinal - (long)firstSeq);

        var span = lastSeq - firstSeq + 1;
        if (state.NumDeleted > 0 || (ulong)state.Messages != span)
        {
            await ThrowDeletedAsync(js, stream, name, where, state, ct).ConfigureAwait(false);
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
            var entry = sequence == firstSeq ? first : await LeaderReads.GetAsync(stream, sequence, withData: sequence == lastSeq, ct).ConfigureAwait(false);
            if (rule.Fits(entry) && Follows(good, entry))
            {
                good = entry;
                continue;
            }

            var bad = entry;
            if (rule.Fits(bad))
            {
                // Ordinals fit, LSNs do not follow: named where they were read.
                throw Discontinuity(name, where, good, bad, logId);
            }

            // Two neighbours that break the rule: good fits it, bad does not.
            while (bad.Sequence - good.Sequence > 1)
            {
                var middle = await LeaderReads.GetAsync(stream, good.Sequence + ((bad.Sequence - good.Sequence) / 2), withData: false, ct).ConfigureAwait(false);
                if (rule.Fits(middle) && Follows(good, middle))
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
        return new StreamEnd(lastSeq, good);
    }

    // Neighbours chain (the next starts right after); farther apart, at least one LSN per message between.
    private static bool Follows(in StreamEntry before, in StreamEntry after) =>
        after.Sequence == before.Sequence
        || (after.Sequence == before.Sequence + 1
            ? after.FirstLsn == before.LastLsn + 1
            : after.FirstLsn > before.LastLsn && (ulong)(after.FirstLsn - before.LastLsn) >= after.Sequence - before.Sequence);

    private static void RequireOurs(in StreamEntry entry, string name, string where, string logId)
    {
        if (!entry.Exists)
        {
            throw new ReplicationException($"The stream '{name}' ({where}) reports sequence {entry.Sequence} as its first, but returns no message there; try again once the stream has a stable leader.");
        }

        if (!entry.Parsed)
        {
            throw new ReplicationException(
                $"The message at sequence {entry.Sequence} of stream '{name}' was not published by a TruthDb replicator (no TruthDb-Log-Id with TruthDb-Lsn or TruthDb-First-Lsn headers). A replicated stream must hold one log only.");
        }

        if (!entry.IsOf(logId))
        {
            throw new ReplicationException(
                $"The stream '{name}' is fed by another log: its message at sequence {entry.Sequence} ({entry.Holds}) has log id {entry.LogId}, this log's id is {logId}. Use another stream or subject.");
        }
    }

    private static async Task ThrowDeletedAsync(INatsJSContext js, INatsJSStream stream, string name, string where, StreamState state, CancellationToken ct)
    {
        var detailed = await js.GetStreamAsync(name, new StreamInfoRequest { DeletedDetails = true }, ct).ConfigureAwait(false);
        var deleted = detailed.Info.State.Deleted is { Count: > 0 } list ? (ulong)list.Min() : 0;
        if (deleted > state.FirstSeq)
        {
            var before = await LeaderReads.GetAsync(stream, deleted - 1, withData: false, ct).ConfigureAwait(false);
            var lsn = before.Parsed ? before.LastLsn + 1 : 0;
            throw new StreamMismatchException(deleted, lsn,
                $"The stream '{name}' is not continuous ({where}): sequence {deleted} holds no message (deleted), after sequence {deleted - 1} with {before.Holds}; LSN {lsn} is missing there ({state.NumDeleted} deleted message(s) between sequences {state.FirstSeq} and {state.LastSeq}). Replication stops rather than ship past a gap; 'truthdb replicate --audit' lists every difference.");
        }

        throw new StreamMismatchException(state.LastSeq, 0,
            $"The stream '{name}' is not continuous ({where}): it holds {state.Messages} message(s) at sequences {state.FirstSeq} to {state.LastSeq}, so some sequence in between holds none. Replication stops rather than ship past a gap; 'truthdb replicate --audit' lists every difference.");
    }

    /// <summary>What is wrong between <paramref name="good"/> and the message after it that breaks the rule.</summary>
    public static StreamMismatchException Discontinuity(string name, string where, in StreamEntry good, in StreamEntry bad, string logId,
        string suffix = " Replication stops rather than ship past it; 'truthdb replicate --audit' lists every difference.")
    {
        var prefix = $"The stream '{name}' is not continuous ({where}): sequence {good.Sequence} holds {good.Holds}, ";
        var next = good.LastLsn + 1;
        if (!bad.Exists)
        {
            return new StreamMismatchException(bad.Sequence, next, prefix + $"sequence {bad.Sequence} holds no message: LSN {next} is missing there." + suffix);
        }

        if (!bad.IsOf(logId))
        {
            var what = bad.Parsed ? $"a message of another log (log id {bad.LogId}, {bad.Holds})" : "a message that no TruthDb replicator published";
            return new StreamMismatchException(bad.Sequence, next, prefix + $"sequence {bad.Sequence} holds {what}." + suffix);
        }

        if (bad.Format != good.Format)
        {
            return new StreamMismatchException(bad.Sequence, next, prefix + $"sequence {bad.Sequence} holds {bad.Holds} {(bad.Format == NatsMessageFormat.Record ? "as one record, in a stream of batches" : "as a batch, in a stream of one record per message")} (a stream holds one format)." + suffix);
        }

        if (bad.FirstLsn > next)
        {
            return new StreamMismatchException(bad.Sequence, next, prefix + $"sequence {bad.Sequence} holds {bad.Holds}: {LsnRange.Text(next, bad.FirstLsn - 1)} missing (a gap)." + suffix);
        }

        if (bad.FirstLsn == next)
        {
            return new StreamMismatchException(bad.Sequence, next, prefix + $"sequence {bad.Sequence} holds {bad.Holds}: its batch number does not follow {good.Ordinal} (a batch missing or repeated)." + suffix);
        }

        var kind = bad.Format == NatsMessageFormat.Record
            ? bad.FirstLsn == good.FirstLsn ? "the same LSN again (a duplicate)" : $"LSN {bad.FirstLsn}, lower (the LSNs go back)"
            : bad.FirstLsn == good.FirstLsn && bad.LastLsn == good.LastLsn ? $"the same LSNs again (a duplicate: {bad.Holds})" : $"{bad.Holds}: the LSNs go back";
        return new StreamMismatchException(bad.Sequence, bad.FirstLsn, prefix + $"sequence {bad.Sequence} holds {kind}." + suffix);
    }

    /// <summary>The rule every message of a continuous stream fits: this log's, one format, ordinal minus sequence constant.</summary>
    private readonly record struct Rule(string LogId, NatsMessageFormat Format, long Offset)
    {
        public bool Fits(in StreamEntry entry) =>
            entry.IsOf(LogId) && entry.Format == Format && entry.Ordinal - (long)entry.Sequence == Offset;
    }
}
