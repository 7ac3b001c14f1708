using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Validation;

namespace TruthDb.Dataflow.Inspection;

/// <summary>The segment-by-segment pass behind <see cref="LogInspector.Verify"/> and <see cref="LogInspector.GetStats"/>.</summary>
public static partial class LogInspector
{
    // Validates every segment in order with the checks recovery makes (LogValidator), but goes on past a
    // problem (to report everything) and never writes. The evidence is read before the segments: on a
    // log a writer is appending to, it then never vouches for more than the segments read afterwards
    // hold. The log's id is the one most segment headers carry, so that a foreign file is reported as
    // foreign even when it replaced the first segment.
    private static List<SegmentSummary> Scan(IWalStorage storage, bool readSealedFrames, List<LogFinding>? findings, out ScanContext context)
    {
        var evidence = DurabilityEvidence.Read(storage);
        var names = ListSegments(storage);
        var validator = new LogValidator(evidence, LogValidator.MajorityLogId(storage, names, out _), finding => findings?.Add(ToLogFinding(finding)))
        {
            ReadSealedFrames = readSealedFrames,
        };
        var segments = new List<SegmentSummary>(names.Count);
        for (var i = 0; i < names.Count; i++)
        {
            using var file = storage.Open(names[i], writable: false);
            segments.Add(Summarize(validator.Check(file, names[i], last: i == names.Count - 1)));
        }

        context = new ScanContext(evidence, validator.LogId);
        return segments;
    }

    private static SegmentSummary Summarize(SegmentScan scan)
    {
        var summary = new SegmentSummary(scan.Name, scan.FirstLsn)
        {
            FileLength = scan.FileLength,
            LastLsn = scan.LastLsn,
            RecordsEnd = scan.RecordsEnd,
            IsSealed = scan.IsSealed,
            KnownDurableLsn = scan.KnownDurableLsn,
        };
        if (scan.Header is { } header)
        {
            summary.SegmentSize = header.SegmentSize;
            summary.LogId = header.LogId.ToString();
            summary.CreatedAt = SegmentHeader.TimeOf(header.CreatedUnixMs);
        }

        return summary;
    }

    private static LogFinding ToLogFinding(Finding finding) => new(
        finding.Kind switch
        {
            FindingKind.DamagedSegment => LogCondition.DamagedSegment,
            FindingKind.ForeignSegment => LogCondition.ForeignFrame,
            FindingKind.OutOfSequence => LogCondition.OutOfSequence,
            FindingKind.MidLogCorruption => LogCondition.MidLogCorruption,
            FindingKind.TornTail => LogCondition.TornTail,
            FindingKind.ZeroFilledTail => LogCondition.ZeroFilledTail,
            _ => LogCondition.DurableRecordDamaged,
        },
        finding.Segment,
        finding.Offset,
        finding.Lsn,
        finding.Recoverable,
        finding.Message);

    // What ProvenDurable needs besides the segments: the evidence and the log's id.
    private sealed record ScanContext(DurabilityEvidence Evidence, LogId? LogId);
}
