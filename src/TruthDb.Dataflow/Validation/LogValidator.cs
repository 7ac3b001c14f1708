using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Validation;

/// <summary>
/// The one validation of a log's segments (docs/format.md), used by recovery at every open and by
/// inspection (<c>truthdb verify</c>, <c>stats</c>): segment headers (against the file name, the log's
/// id, the size rules and the file's length), continuity between segments, seal trailers, frames
/// (checksum, padding, LSN sequence) and, for the last segment, what follows its last valid frame
/// (<see cref="TailRule"/>). Segments are checked one by one, oldest first, with <see cref="Check"/>.
/// Every problem goes to the report callback as a <see cref="Finding"/>: recovery's throws at the
/// first one that is not recoverable (opening refuses), inspection's collects them all and the
/// validator goes on as far as the damage lets it. Reads, never writes.
/// </summary>
/// <param name="evidence">The durability evidence, read before any segment.</param>
/// <param name="logId">The log's id (the one most segment headers carry), or null to take the first readable header's.</param>
/// <param name="report">Receives every finding; may throw to stop.</param>
internal sealed class LogValidator(DurabilityEvidence evidence, LogId? logId, Action<Finding> report)
{
    /// <summary>True to read the frames of sealed segments too (verify); false to take their trailers' word (recovery, stats).</summary>
    public bool ReadSealedFrames { get; init; }

    /// <summary>
    /// True to skip the scan past the last frame when the clean-close note says the log was closed
    /// exactly there (recovery: nothing can follow); false to scan anyway (verify reports everything).
    /// </summary>
    public bool TrustCleanClose { get; init; }

    /// <summary>True to build the last segment's sparse index while reading its frames (recovery hands it to the writer).</summary>
    public bool BuildIndex { get; init; }

    /// <summary>The log's id: the one given, else the first readable header's.</summary>
    public LogId? LogId { get; private set; } = logId;

    /// <summary>What the note and the mirror prove for the log of the last segment (once it was checked).</summary>
    public (long Lsn, string Source) Bound { get; private set; } = (0, string.Empty);

    private long _expectedFirst;

    /// <summary>The log id most segment headers among <paramref name="names"/> carry (the first to reach the highest count on a tie); null when none can be read.</summary>
    /// <param name="storage">The log directory.</param>
    /// <param name="names">Segment file names, oldest first.</param>
    /// <param name="firstProblem">Why the first unreadable header could not be read (null when every header was readable or its file is gone).</param>
    public static LogId? MajorityLogId(IWalStorage storage, IReadOnlyList<string> names, out string? firstProblem)
    {
        var counts = new Dictionary<LogId, int>();
        LogId? best = null;
        firstProblem = null;
        foreach (var name in names)
        {
            if (!TryReadHeader(storage, name, out var header, out var problem))
            {
                firstProblem ??= problem;
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

    /// <summary>Reads a segment's header: false with a null problem when the file is gone (retention), false with a problem when it is damaged.</summary>
    public static bool TryReadHeader(IWalStorage storage, string name, out SegmentHeader header, out string? problem)
    {
        header = default;
        problem = null;
        try
        {
            using var file = storage.Open(name, writable: false);
            return TryReadHeader(file, out header, out problem);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Reads the frames of one segment in order from <paramref name="from"/>, validating each, up to the first that does not validate.</summary>
    /// <param name="file">The segment.</param>
    /// <param name="seed">The log's checksum seed.</param>
    /// <param name="from">Where the frame of <paramref name="expectedLsn"/> should start.</param>
    /// <param name="end">The end of the record area.</param>
    /// <param name="expectedLsn">The LSN the frame at <paramref name="from"/> must have.</param>
    /// <param name="index">An index to add entries to while reading (null: build none).</param>
    public static FrameRun ReadFrames(IStorageFile file, uint seed, long from, long end, long expectedLsn, SparseIndex? index = null)
    {
        long maxSynced = 0;
        FrameStatus status;
        using var reader = new StoredFrameReader(file, seed, from, end, expectedLsn);
        var frameOffset = reader.Offset;
        while ((status = reader.Next()) == FrameStatus.Success)
        {
            maxSynced = Math.Max(maxSynced, reader.Current.SyncedLsn);
            if (index is not null && index.Wants(frameOffset))
            {
                index = index.With(reader.Current.Lsn, frameOffset);
            }

            frameOffset = reader.Offset;
        }

        return new FrameRun(reader.Offset, reader.ExpectedLsn, status, maxSynced, index);
    }

    /// <summary>
    /// Checks the next segment of the log (call once per segment, oldest first; <paramref name="last"/>
    /// for the last one). Returns what was learnt; every problem found went to the report callback.
    /// </summary>
    public SegmentScan Check(IStorageFile file, string name, bool last)
    {
        var scan = new SegmentScan(name, SegmentNames.TryParseSegment(name, out var parsed) ? parsed : 0) { FileLength = file.Length };
        scan.NextFirstLsn = CheckSegment(file, scan, last);
        _expectedFirst = scan.NextFirstLsn;
        return scan;
    }

    // Returns the first LSN the next segment must have, or 0 when it cannot be known.
    private long CheckSegment(IStorageFile file, SegmentScan scan, bool last)
    {
        var name = scan.Name;
        if (!TryReadHeader(file, out var header, out var problem))
        {
            Report(FindingKind.DamagedSegment, name, 0, 0, problem);
            return 0;
        }

        scan.Header = header;
        if (header.FirstLsn != scan.FirstLsn)
        {
            Report(FindingKind.OutOfSequence, name, 32, scan.FirstLsn,
                $"the header says the segment's first LSN is {header.FirstLsn}, but its file name says {scan.FirstLsn}");
            return 0;
        }

        if (LogId is { } expected && !header.LogId.Equals(expected))
        {
            Report(FindingKind.ForeignSegment, name, 16, scan.FirstLsn,
                $"the segment belongs to another log (log id {header.LogId}, this log's is {expected}): none of its frames are this log's records");
            return 0;
        }

        LogId ??= header.LogId;
        if (_expectedFirst != 0 && header.FirstLsn != _expectedFirst)
        {
            Report(FindingKind.OutOfSequence, name, 0, _expectedFirst,
                $"the segment starts at LSN {header.FirstLsn}, but the segment before it ends at LSN {_expectedFirst - 1} (a segment is missing, or segments overlap)");
        }

        if (!HasValidSize(header))
        {
            Report(FindingKind.DamagedSegment, name, 40, 0, $"the header's segment size {header.SegmentSize} is not a valid segment size");
            return 0;
        }

        if (scan.FileLength < header.SegmentSize)
        {
            Report(FindingKind.DamagedSegment, name, scan.FileLength, 0,
                $"the file is {scan.FileLength} bytes long, shorter than its segment size {header.SegmentSize} (cut off; the engine refuses to open it)");
        }

        var seed = header.LogId.Seed;
        var recordsEnd = SegmentLayout.RecordsEnd(header.SegmentSize);
        var isSealed = TryReadTrailer(file, header, out var trailerLast, out var trailerEnd);
        scan.IsSealed = isSealed;
        if (!last && !isSealed)
        {
            Report(FindingKind.MidLogCorruption, name, recordsEnd, 0, "the seal trailer of a sealed segment (not the last one) is missing or damaged");
        }

        if (last)
        {
            Bound = evidence.Bound(header.LogId);
        }

        if (isSealed && !last && !ReadSealedFrames)
        {
            scan.LastLsn = trailerLast;
            scan.RecordsEnd = trailerEnd;
            scan.KnownDurableLsn = trailerLast;
            return trailerLast + 1;
        }

        var frames = ReadFrames(file, seed, SegmentLayout.RecordsStart, recordsEnd, header.FirstLsn, BuildIndex && last ? SparseIndex.Empty(header.FirstLsn) : null);
        scan.LastLsn = frames.NextLsn - 1;
        scan.RecordsEnd = frames.Stop;
        scan.Stop = frames.Status;
        scan.Index = frames.Index ?? scan.Index;
        scan.KnownDurableLsn = isSealed ? trailerLast : Math.Min(frames.MaxSyncedLsn, scan.LastLsn);
        if (isSealed)
        {
            if (CheckSealed(scan, trailerLast, trailerEnd) && last)
            {
                CheckTail(file, scan, header, recordsEnd, isSealed: true);
            }

            return trailerLast + 1;
        }

        if (last)
        {
            CheckTail(file, scan, header, recordsEnd, isSealed: false);
        }

        return scan.LastLsn + 1;
    }

    // True when the sealed segment's frames match its trailer.
    private bool CheckSealed(SegmentScan scan, long trailerLast, long trailerEnd)
    {
        var stop = scan.RecordsEnd;
        var missing = scan.LastLsn + 1;
        if (stop == trailerEnd && scan.LastLsn == trailerLast)
        {
            return true;
        }

        if (stop < trailerEnd)
        {
            Report(scan.Stop == FrameStatus.OutOfSequence ? FindingKind.OutOfSequence : FindingKind.MidLogCorruption, scan.Name, stop, missing,
                $"the frame of LSN {missing} is {TailRule.Describe(scan.Stop)} inside a sealed segment (sealed at LSN {trailerLast}, records end at offset {trailerEnd}): LSNs {missing} to {trailerLast} cannot be read");
            return false;
        }

        Report(FindingKind.MidLogCorruption, scan.Name, stop, missing,
            $"the segment is sealed at LSN {trailerLast} (records end at offset {trailerEnd}), but its frames end at LSN {scan.LastLsn}, offset {stop}");
        return false;
    }

    // What follows the last valid frame of the last segment: the clean end of the log, a torn or
    // zero-filled tail, or a durable record damaged.
    private void CheckTail(IStorageFile file, SegmentScan scan, SegmentHeader header, long recordsEnd, bool isSealed)
    {
        var stop = scan.RecordsEnd;
        var missing = scan.LastLsn + 1;

        // After a clean close that ended exactly here, nothing can follow the last frame.
        var closedCleanly = evidence.Note is { } note && note.LogId.Equals(header.LogId)
            && (note.SegmentFirstLsn, note.LastLsn, note.RecordsEnd) == (header.FirstLsn, scan.LastLsn, stop);
        scan.ClosedCleanly = closedCleanly;
        var verdict = TailRule.Judge(file, header.LogId.Seed, stop, recordsEnd, scan.LastLsn, scan.Stop, isSealed, Bound, scan: !(TrustCleanClose && closedCleanly));
        scan.Tail = verdict;
        var outOfSequence = scan.Stop == FrameStatus.OutOfSequence;
        switch (verdict.Kind)
        {
            case TailKind.ProvenDurable:
                Report(FindingKind.DurableRecordDamaged, scan.Name, stop, missing, verdict.Problem + " (opening refuses)");
                return;
            case TailKind.WitnessedDurable:
                Report(outOfSequence ? FindingKind.OutOfSequence : FindingKind.MidLogCorruption, scan.Name, stop, missing,
                    verdict.Problem + ": a durable record is damaged (opening refuses)");
                return;
            case TailKind.Torn:
                var kind = outOfSequence ? FindingKind.OutOfSequence : verdict.ZeroHead ? FindingKind.ZeroFilledTail : FindingKind.TornTail;
                var lsns = verdict.MaxLsnSeen >= missing ? $"LSNs {missing} to {verdict.MaxLsnSeen}" : $"LSN {missing} at most";
                report(new Finding(kind, scan.Name, stop, missing, Recoverable: true,
                    $"{verdict.Problem}, so opening the log truncates {verdict.DirtyEnd - stop} bytes from offset {stop} ({lsns})"));
                return;
        }
    }

    private void Report(FindingKind kind, string segment, long offset, long lsn, string message) =>
        report(new Finding(kind, segment, offset, lsn, Recoverable: false, message));

    /// <summary>Reads a segment's header from its file; on failure <paramref name="problem"/> says what is wrong.</summary>
    public static bool TryReadHeader(IStorageFile file, out SegmentHeader header, out string problem)
    {
        Span<byte> bytes = stackalloc byte[SegmentHeader.Length];
        return SegmentHeader.TryRead(bytes[..file.ReadFully(0, bytes)], out header, out problem);
    }

    /// <summary>True when the header's segment size is one the engine makes (<see cref="WalOptions.SegmentSize"/>'s rules).</summary>
    public static bool HasValidSize(SegmentHeader header) =>
        header.SegmentSize is >= WalOptions.MinSegmentSize and <= WalOptions.MaxSegmentSize && header.SegmentSize % WalOptions.SegmentSizeGranularity == 0;

    private static bool TryReadTrailer(IStorageFile file, SegmentHeader header, out long lastLsn, out long recordsEnd)
    {
        Span<byte> bytes = stackalloc byte[FrameCodec.TrailerLength];
        var offset = SegmentLayout.RecordsEnd(header.SegmentSize);
        var read = file.ReadFully(offset, bytes);
        return FrameCodec.TryDecodeTrailer(bytes[..read], header.LogId.Seed, out lastLsn, out recordsEnd)
            && lastLsn >= header.FirstLsn - 1 && recordsEnd >= SegmentLayout.RecordsStart && recordsEnd <= offset;
    }
}

/// <summary>What <see cref="LogValidator.ReadFrames"/> found.</summary>
/// <param name="Stop">The offset just past the last valid frame (of the bad frame that stopped the read).</param>
/// <param name="NextLsn">The LSN the next frame must have (the last valid frame's LSN + 1).</param>
/// <param name="Status">Why the read stopped.</param>
/// <param name="MaxSyncedLsn">The highest synced-LSN field of the valid frames read (0 when none).</param>
/// <param name="Index">The index with the entries added while reading, when one was given.</param>
internal readonly record struct FrameRun(long Stop, long NextLsn, FrameStatus Status, long MaxSyncedLsn, SparseIndex? Index);
