using NATS.Client.Core;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Replication.Nats;

namespace TruthDb.Dataflow.Cli.Replicate;

/// <summary>
/// <c>truthdb replicate --audit</c>: reads the whole stream through its leader and compares it with the
/// log (read-only on both sides, <see cref="StreamAuditor"/>); prints what was compared, the findings
/// (at most <see cref="Listed"/>, then a count) and a result line. Exit 0 when they match,
/// <see cref="ExitCodes.StreamMismatch"/> when they differ.
/// </summary>
internal static class AuditCommand
{
    private const int Listed = 20;

    public static async Task<int> RunAsync(ReplicateSettings settings, NatsConnection connection, CancellationToken ct)
    {
        var options = new StreamAuditOptions
        {
            StreamName = settings.Options.StreamName,
            CursorName = settings.Options.CursorName,
            MaxListed = Listed,
        };
        StreamAuditReport report;
        try
        {
            report = await StreamAuditor.AuditAsync(settings.Directory, connection, options, ct);
        }
        catch (ReplicationException ex)
        {
            throw new CliException(ex.Message);
        }
        catch (NatsException ex)
        {
            throw new CliException($"The audit of stream '{options.StreamName}' could not read it: {ex.Message}");
        }

        Console.WriteLine(string.Create(Show.Invariant,
            $"audit of stream '{report.StreamName}' through {(report.Leader is { } leader ? "leader " + leader : "the server")}: sequences {report.FirstSequence}..{report.LastSequence}, LSN {report.FirstLsn}..{report.LastLsn}; log '{Path.GetFullPath(settings.Directory)}' (log id {report.LogId:N}) holds LSN {report.LogFirstLsn}..{report.LogDurableLsn} durable; cursor {report.CursorName} at {report.CursorLsn}{(report.AcknowledgedLsn > report.CursorLsn ? $" (the stream had acknowledged up to LSN {report.AcknowledgedLsn})" : string.Empty)}"));
        foreach (var finding in report.Findings)
        {
            Console.WriteLine(finding.Description);
        }

        if (report.FindingCount > report.Findings.Count)
        {
            Console.WriteLine(string.Create(Show.Invariant, $"... and {report.FindingCount - report.Findings.Count:N0} more findings"));
        }

        var unshipped = report.UnshippedLsns > 0 ? string.Create(Show.Invariant, $"; {report.UnshippedLsns:N0} durable LSNs not shipped yet") : string.Empty;
        var uncomparable = report.UncomparableRecords > 0 ? string.Create(Show.Invariant, $"; {report.UncomparableRecords:N0} records below the log's first record (continuity checked, bytes not comparable)") : string.Empty;
        if (report.IsMatch)
        {
            Console.WriteLine(string.Create(Show.Invariant,
                $"match: {report.SequencesRead:N0} messages, every LSN from {report.FirstLsn} to {report.LastLsn} exactly once, in order; {report.VerifiedRecords:N0} records byte-exact with the log{uncomparable}{unshipped}"));
            return ExitCodes.Ok;
        }

        Console.WriteLine(string.Create(Show.Invariant,
            $"MISMATCH: {report.MissingLsns:N0} LSNs missing, {report.Duplicates:N0} duplicates, {report.OutOfOrder:N0} out of order, {report.Mismatches:N0} mismatches, {report.ForeignMessages:N0} foreign messages, {report.DeletedSequences:N0} deleted sequences, {report.NotInLog:N0} LSNs not in the log{(report.LeaderChanged ? ", the leader changed during the audit" : string.Empty)}; {report.SequencesRead:N0} sequences read, {report.VerifiedRecords:N0} records byte-exact{uncomparable}{unshipped}"));
        return ExitCodes.StreamMismatch;
    }
}
