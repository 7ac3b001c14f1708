using NATS.Client.Core;
using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Auditing;
using TruthDb.Dataflow.Replication.Nats.Publishing;
using TruthDb.Dataflow.Replication.Nats.Streams;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>
/// Compares a whole stream with the log it was replicated from, read-only on both sides: the log
/// through a <see cref="WalReader"/> (no writer lock, nothing written; a writer and a replicator may
/// run meanwhile), the stream message by message through the JetStream API's message get, which the
/// stream leader answers (so the audit sees what the node taking the publishes holds; to audit another
/// node, make it leader first). It reads the sequences from the stream's first to its last when the
/// audit began and checks that every LSN is there exactly once, in order, byte-exact, with this log's
/// id and message id, from the log's first record to the stream's end and at least up to the highest
/// LSN the replicator's records say the stream acknowledged (its cursor, or the mark
/// <see cref="LogNames.AcknowledgedMark"/> it wrote before moving the cursor back to ship lost records again).
/// </summary>
public static class StreamAuditor
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);
    private const int Attempts = 30;

    /// <summary>Audits stream <see cref="StreamAuditOptions.StreamName"/> against the log in <paramref name="directory"/>.</summary>
    /// <param name="directory">The log directory.</param>
    /// <param name="connection">A connection to the NATS servers (the caller owns it).</param>
    /// <param name="options">Which stream and cursor; validated.</param>
    /// <param name="ct">Cancels the audit.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="ReplicationException">The stream does not exist, or the servers did not answer.</exception>
    public static async Task<StreamAuditReport> AuditAsync(string directory, INatsConnection connection, StreamAuditOptions options, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var reader = WalReader.Open(directory);
        var js = new NatsJSContext(connection);
        var stream = await GetStreamAsync(js, options.StreamName, ct).ConfigureAwait(false);
        var state = stream.Info.State;
        var leader = stream.Info.Cluster?.Leader;
        var logId = MessageHeaders.FormatLogId(reader.LogId);
        var cursorName = options.CursorName ?? LogNames.DefaultCursor(options.StreamName);
        var cursor = reader.GetCursor(cursorName);
        var acknowledged = Math.Max(cursor, reader.GetCursor(LogNames.AcknowledgedMark(cursorName)));
        var durable = reader.DurableLsn;
        var log = await LogLookup.OpenAsync(reader, reader.WrittenLsn, ct).ConfigureAwait(false);
        await using var closeLog = log.ConfigureAwait(false);
        var tally = new AuditTally(logId, log, options.MaxListed);
        if (state.Messages > 0)
        {
            var batch = new Task<StreamEntry>[options.Concurrency];
            for (var next = state.FirstSeq; next <= state.LastSeq;)
            {
                var count = (int)Math.Min((ulong)batch.Length, state.LastSeq - next + 1);
                for (var i = 0; i < count; i++)
                {
                    batch[i] = GetAsync(stream, next + (ulong)i, ct);
                }

                foreach (var entry in await Task.WhenAll(batch.AsSpan(0, count).ToArray()).ConfigureAwait(false))
                {
                    await tally.AddAsync(entry).ConfigureAwait(false);
                }

                next += (ulong)count;
            }
        }

        tally.Finish(state.FirstSeq, state.LastSeq, cursor, acknowledged);
        var after = (await GetStreamAsync(js, options.StreamName, ct).ConfigureAwait(false)).Info.Cluster?.Leader;
        var changed = !string.Equals(leader, after, StringComparison.Ordinal);
        if (changed)
        {
            tally.Find(StreamAuditFindingKind.LeaderChanged, 0, 0, $"the stream's leader changed from {leader ?? "none"} to {after ?? "none"} during the audit: the messages may come from both");
        }

        return new StreamAuditReport
        {
            StreamName = options.StreamName,
            Leader = leader,
            FirstSequence = state.FirstSeq,
            LastSequence = state.LastSeq,
            SequencesRead = tally.Sequences,
            FirstLsn = tally.FirstLsn,
            LastLsn = tally.LastLsn,
            LogId = reader.LogId,
            LogFirstLsn = log.FirstLsn == long.MaxValue ? 0 : log.FirstLsn,
            LogDurableLsn = durable,
            CursorName = cursorName,
            CursorLsn = cursor,
            AcknowledgedLsn = acknowledged,
            VerifiedMessages = tally.VerifiedMessages,
            VerifiedRecords = tally.VerifiedRecords,
            UncomparableRecords = tally.Uncomparable,
            UnshippedLsns = Math.Max(0, durable - Math.Max(tally.LastLsn, cursor)),
            MissingLsns = tally.Missing,
            Duplicates = tally.Duplicates,
            OutOfOrder = tally.OutOfOrder,
            Mismatches = tally.Mismatches,
            ForeignMessages = tally.Foreign,
            DeletedSequences = tally.Deleted,
            NotInLog = tally.NotInLog,
            LeaderChanged = changed,
            Findings = tally.Listed,
            FindingCount = tally.Findings,
        };
    }

    private static async Task<INatsJSStream> GetStreamAsync(NatsJSContext js, string name, CancellationToken ct)
    {
        var backoff = FirstBackoff;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await js.GetStreamAsync(name, cancellationToken: ct).ConfigureAwait(false);
            }
            catch (NatsJSApiException ex) when (ex.Error.ErrCode == 10059)
            {
                throw new ReplicationException($"The stream '{name}' does not exist.", ex);
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException && attempt < Attempts)
            {
                // No leader for a moment: ask again.
                await Task.Delay(backoff, ct).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private static async Task<StreamEntry> GetAsync(INatsJSStream stream, ulong sequence, CancellationToken ct)
    {
        var backoff = FirstBackoff;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await LeaderReads.GetAsync(stream, sequence, withData: true, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException && attempt < Attempts)
            {
                await Task.Delay(backoff, ct).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}
