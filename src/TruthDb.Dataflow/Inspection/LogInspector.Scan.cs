using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Recovery;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Validation;

namespace TruthDb.Dataflow.Inspection;

/// <summary>The segment-by-segment pass behind <see cref="LogInspector.Verify"/> and <see cref="LogInspector.GetStats"/>.</summary>
public static partial class LogInspector
{
    // Reads every segment in order; adds findings when asked. Mirrors LogRecovery's checks, but goes on
    // past a problem (to report everything) and never writes.
    private static List<SegmentSummary> Scan(IWalStorage storage, bool readSealedFrames, List<LogFinding>? findings) =>
        Scan(storage, readSealedFrames, findings, out _);

    // The evidence is read before the segments: on a log a writer is appending to, it then never
    // vouches for more than the segments read afterwards hold.
    private static List<SegmentSummary> Scan(IWalStorage storage, bool readSealedFrames, List<LogFinding>? findings, out ScanContext context)
    {
        var evidence = DurabilityEvidence.Read(storage);
        var names = ListSegments(storage);
        var segments = new List<SegmentSummary>(names.Count);
        context = new ScanContext(findings ?? [], readSealedFrames, evidence) { LogId = MajorityLogId(storage, names) };
        for (var i = 0; i < names.Count; i++)
        {
            var firstLsn = SegmentNames.TryParseSegment(names[i], out var parsed) ? parsed : 0;
            var summary = new SegmentSummary(names[i], firstLsn);
            segments.Add(summary);
            using var file = storage.Open(names[i], writable: false);
            summary.FileLength = file.Length;
            context.ExpectedFirst = ScanSegment(file, summary, last: i == names.Count - 1, context);
        }

        return segments;
    }

    // The log id most segment headers carry (the first segment's on a tie, as the engine takes it), so
    // that a foreign file is reported as foreign even when it replaced the first segment.
    private static LogId? MajorityLogId(IWalStorage storage, List<string> names)
    {
        var counts = new Dictionary<LogId, int>();
        LogId? best = null;
        Span<byte> bytes = stackalloc byte[SegmentHeader.Length];
        foreach (var name in names)
        {
            using var file = storage.Open(name, writable: false);
            if (!SegmentHeader.TryRead(bytes[..file.ReadFully(0, bytes)], out var header, out _))
            {
                continue;
            }

            var count = counts[header.LogId] = counts.GetValueOrDefault(header.LogId) + 1;
            if (best is null || count > counts[best.Value])
            {
                best = header.LogId;
            }
        }

        return best;
    }

    // Returns the first LSN the next segment must have, or 0 when it cannot be known.
    private static long ScanSegment(IStorageFile file, SegmentSummary summary, bool last, ScanContext context)
    {
        var name = summary.Name;
        Span<byte> bytes = stackalloc byte[SegmentHeader.Length];
        var read = file.ReadFully(0, bytes);
        if (!SegmentHeader.TryRead(bytes[..read], out var header, out var problem))
        {
            context.Add(LogCondition.DamagedSegment, name, 0, 0, problem);
            return 0;
        }

        summary.SegmentSize = header.SegmentSize;
        summary.LogId = header.LogId.ToString();
        summary.CreatedAt = header.CreatedUnixMs is >= 0 and <= 253402300799999 ? DateTimeOffset.FromUnixTimeMilliseconds(header.CreatedUnixMs) : null;
        if (header.FirstLsn != summary.FirstLsn)
        {
            context.Add(LogCondition.OutOfSequence, name, 32, summary.FirstLsn,
                $"the header says the segment's first LSN is {header.FirstLsn}, but its file name says {summary.FirstLsn}");
            return 0;
        }

        if (context.LogId is { } expected && !header.LogId.Equals(expected))
        {
            context.Add(LogCondition.ForeignFrame, name, 16, summary.FirstLsn,
                $"the segment belongs to another log (log id {header.LogId}, this log's is {expected}): none of its frames are this log's records");
            return 0;
        }

        context.LogId ??= header.LogId;
        if (context.ExpectedFirst != 0 && header.FirstLsn != context.ExpectedFirst)
        {
            context.Add(LogCondition.OutOfSequence, name, 0, context.ExpectedFirst,
                $"the segment starts at LSN {header.FirstLsn}, but the segment before it ends at LSN {context.ExpectedFirst - 1} (a segment is missing, or segments overlap)");
        }

        if (header.SegmentSize is < WalOptions.MinSegmentSize or > WalOptions.MaxSegmentSize || header.SegmentSize % WalOptions.SegmentSizeGranularity != 0)
        {
            context.Add(LogCondition.DamagedSegment, name, 40, 0, $"the header's segment size {header.SegmentSize} is not a valid segment size");
            return 0;
        }

        if (file.Length < header.SegmentSize)
        {
            context.Add(LogCondition.DamagedSegment, name, file.Length, 0,
                $"the file is {file.Length} bytes long, shorter than its segment size {header.SegmentSize} (cut off; the engine refuses to open it)");
        }

        var seed = header.LogId.Seed;
        var recordsEnd = SegmentLayout.RecordsEnd(header.SegmentSize);
        var isSealed = TryReadTrailer(file, header, out var trailerLast, out var trailerEnd);
        summary.IsSealed = isSealed;
        if (!last && !isSealed)
        {
            context.Add(LogCondition.MidLogCorruption, name, recordsEnd, 0,
                "the seal trailer of a sealed segment (not the last one) is missing or damaged");
        }

        if (last)
        {
            context.Bound = context.Evidence.Bound(header.LogId);
        }

        if (isSealed && !last && !context.ReadSealedFrames)
        {
            summary.LastLsn = trailerLast;
            summary.RecordsEnd = trailerEnd;
            summary.KnownDurableLsn = trailerLast;
            return trailerLast + 1;
        }

        long stop, lastLsn, maxSynced = 0;
        FrameStatus status;
        using (var reader = new StoredFrameReader(file, seed, SegmentLayout.RecordsStart, recordsEnd, header.FirstLsn))
        {
            while ((status = reader.Next()) == FrameStatus.Success)
            {
                maxSynced = Math.Max(maxSynced, reader.Current.SyncedLsn);
            }

            stop = reader.Offset;
            lastLsn = reader.ExpectedLsn - 1;
        }

        summary.LastLsn = lastLsn;
        summary.RecordsEnd = stop;
        summary.KnownDurableLsn = isSealed ? trailerLast : Math.Min(maxSynced, lastLsn);
        if (isSealed)
        {
            if (CheckSealed(summary, status, trailerLast, trailerEnd, context) && last)
            {
                CheckTail(file, summary, seed, recordsEnd, status, isSealed: true, context);
            }

            return trailerLast + 1;
        }

        if (last)
        {
            CheckTail(file, summary, seed, recordsEnd, status, isSealed: false, context);
        }

        return lastLsn + 1;
    }

    // True when the sealed segment's frames match its trailer.
    private static bool CheckSealed(SegmentSummary summary, FrameStatus status, long trailerLast, long trailerEnd, ScanContext context)
    {
        var stop = summary.RecordsEnd;
        var missing = summary.LastLsn + 1;
        if (stop == trailerEnd && summary.LastLsn == trailerLast)
        {
            return true;
        }

        if (stop < trailerEnd)
        {
            context.Add(status == FrameStatus.OutOfSequence ? LogCondition.OutOfSequence : LogCondition.MidLogCorruption, summary.Name, stop, missing,
                $"the frame of LSN {missing} is {TailRule.Describe(status)} inside a sealed segment (sealed at LSN {trailerLast}, records end at offset {trailerEnd}): LSNs {missing} to {trailerLast} cannot be read");
            return false;
        }

        context.Add(LogCondition.MidLogCorruption, summary.Name, stop, missing,
            $"the segment is sealed at LSN {trailerLast} (records end at offset {trailerEnd}), but its frames end at LSN {summary.LastLsn}, offset {stop}");
        return false;
    }

    // What follows the last valid frame of the last segment: the clean end of the log, a torn or
    // zero-filled tail, or a durable record damaged (TailRule, the rule recovery applies).
    private static void CheckTail(IStorageFile file, SegmentSummary summary, uint seed, long recordsEnd, FrameStatus status, bool isSealed, ScanContext context)
    {
        var stop = summary.RecordsEnd;
        var missing = summary.LastLsn + 1;
        var verdict = TailRule.Judge(file, seed, stop, recordsEnd, summary.LastLsn, status, isSealed, context.Bound, scan: true);
        switch (verdict.Kind)
        {
            case TailKind.ProvenDurable:
                context.Add(LogCondition.DurableRecordDamaged, summary.Name, stop, missing, verdict.Problem + " (opening refuses)");
                return;
            case TailKind.WitnessedDurable:
                context.Add(status == FrameStatus.OutOfSequence ? LogCondition.OutOfSequence : LogCondition.MidLogCorruption, summary.Name, stop, missing,
                    verdict.Problem + ": a durable record is damaged (opening refuses)");
                return;
            case TailKind.Torn:
                var condition = status == FrameStatus.OutOfSequence ? LogCondition.OutOfSequence
                    : verdict.ZeroHead ? LogCondition.ZeroFilledTail
                    : LogCondition.TornTail;
                var lsns = verdict.MaxLsnSeen >= missing ? $"LSNs {missing} to {verdict.MaxLsnSeen}" : $"LSN {missing} at most";
                context.Add(condition, summary.Name, stop, missing, recoverable: true,
                    $"{verdict.Problem}, so opening the log truncates {verdict.DirtyEnd - stop} bytes from offset {stop} ({lsns})");
                return;
        }
    }

    private static bool TryReadTrailer(IStorageFile file, SegmentHeader header, out long lastLsn, out long recordsEnd)
    {
        Span<byte> bytes = stackalloc byte[FrameCodec.TrailerLength];
        var offset = SegmentLayout.RecordsEnd(header.SegmentSize);
        var read = file.ReadFully(offset, bytes);
        return FrameCodec.TryDecodeTrailer(bytes[..read], header.LogId.Seed, out lastLsn, out recordsEnd)
            && lastLsn >= header.FirstLsn - 1 && recordsEnd >= SegmentLayout.RecordsStart && recordsEnd <= offset;
    }

    private sealed class ScanContext(List<LogFinding> findings, bool readSealedFrames, DurabilityEvidence evidence)
    {
        public bool ReadSealedFrames { get; } = readSealedFrames;

        public DurabilityEvidence Evidence { get; } = evidence;

        /// <summary>What the note and the mirror prove for the log of the last segment.</summary>
        public (long Lsn, string Source) Bound { get; set; } = (0, string.Empty);

        public LogId? LogId { get; set; }

        public long ExpectedFirst { get; set; }

        public void Add(LogCondition condition, string segment, long offset, long lsn, string message) =>
            findings.Add(new LogFinding(condition, segment, offset, lsn, recoverable: false, message));

        public void Add(LogCondition condition, string segment, long offset, long lsn, bool recoverable, string message) =>
            findings.Add(new LogFinding(condition, segment, offset, lsn, recoverable, message));
    }
}
