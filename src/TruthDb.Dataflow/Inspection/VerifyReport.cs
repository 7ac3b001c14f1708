namespace TruthDb.Dataflow.Inspection;

/// <summary>What <see cref="LogInspector.Verify"/> found in a log directory.</summary>
public sealed class VerifyReport
{
    internal VerifyReport(string directory, IReadOnlyList<SegmentSummary> segments, IReadOnlyList<LogFinding> findings)
    {
        Directory = directory;
        Segments = segments;
        Findings = findings;
    }

    /// <summary>The full path of the log directory.</summary>
    public string Directory { get; }

    /// <summary>Every segment, oldest first.</summary>
    public IReadOnlyList<SegmentSummary> Segments { get; }

    /// <summary>Every problem found, in log order; empty when the log is clean.</summary>
    public IReadOnlyList<LogFinding> Findings { get; }

    /// <summary>
    /// The highest LSN that persisted evidence proves durable (0 when nothing does): the clean-close
    /// note or the watermark mirror of this log, a seal trailer, or a frame's synced-LSN field. Every
    /// LSN of the log up to it was durable at some point; a finding at or below it is corruption.
    /// </summary>
    public long ProvenDurableLsn { get; internal init; }

    /// <summary>Which evidence proves <see cref="ProvenDurableLsn"/>, in words (empty when nothing does).</summary>
    public string ProvenDurableBy { get; internal init; } = string.Empty;

    /// <summary>
    /// The intent file (<c>repair-NNNN.intent</c>) of a repair that a crash cut short, or null. Until the
    /// next open or <c>truthdb repair --yes</c> completes it, the segments may be half cut.
    /// </summary>
    public string? PendingRepair { get; internal init; }

    /// <summary>True when nothing is wrong.</summary>
    public bool IsClean => Findings.Count == 0;

    /// <summary>True when every finding is a tail that opening the log truncates without losing a durable record.</summary>
    public bool IsRecoverable
    {
        get
        {
            foreach (var finding in Findings)
            {
                if (!finding.Recoverable)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>The condition of the first finding, or <see cref="LogCondition.Clean"/>.</summary>
    public LogCondition Condition => Findings.Count == 0 ? LogCondition.Clean : Findings[0].Condition;

    /// <summary>The number of valid records in order, over all segments.</summary>
    public long Records
    {
        get
        {
            long total = 0;
            foreach (var segment in Segments)
            {
                total += segment.Records;
            }

            return total;
        }
    }
}
