using Microsoft.Extensions.Logging;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.LogState;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Validation;

namespace TruthDb.Dataflow.Recovery;

/// <summary>
/// Opens a log directory: creates a new log, or validates and repairs the tail of an existing one.
/// </summary>
/// <remarks>
/// What a crash can leave, and what recovery does with it:
/// <list type="bullet">
/// <item><c>prepare-N.tmp</c> files: segments being prepared, never part of the log, and
/// <c>*.new</c> files of interrupted atomic replacements. Deleted.</item>
/// <item>Sparse-index sidecars (<c>*.idx</c>) whose segment is gone. Deleted.</item>
/// <item>Segments below the persisted retention point (<see cref="RetentionPoint"/>): left by a
/// retention that was cut short. Deleted; the segment at the retention point must exist.</item>
/// <item>Sealed segments (all but the last): written and synced before the next segment was
/// created. Their headers and seal trailers are validated, and consecutive segments must continue
/// each other's LSNs; anything else is corruption and opening refuses.</item>
/// <item>The last segment: frames are validated in order, and what follows the last valid frame is
/// judged by <see cref="TailRule"/>: when persisted evidence (the clean-close note, the watermark
/// mirror's durable LSN, a later frame's synced-LSN field, a seal trailer) proves a record past it
/// durable, a durable record is damaged or missing: corruption, opening refuses naming segment, offset
/// and LSN, and changes nothing. Otherwise the bad frame and everything after it were never proven
/// durable — a torn tail: the frames of it that still validate are zeroed (so they can never come back
/// after their LSNs are reused), the segment is synced, and what was dropped is logged (event 3).</item>
/// </list>
/// Order of operations, and what a crash at each point leaves:
/// <list type="number">
/// <item>Complete a repair whose intent is durable (<see cref="RepairSteps"/>: every step of it is
/// idempotent, so a crash here is completed by the next open again).</item>
/// <item>Read the evidence (note, mirror), delete leftovers (prepared segments, <c>*.new</c>, orphan
/// indexes, segments below the retention point), sync the directory. A crash: the same log, fewer
/// leftovers.</item>
/// <item>Validate every segment and judge the tail. Nothing is written: a refusal leaves the note and
/// the mirror in place, so the next open refuses again.</item>
/// <item>Delete the clean-close note and sync the directory, before anything is written to a segment:
/// a note left behind would vouch for a tail that later writes and a crash may have torn. A crash
/// before: the next open decides the same; after: the same without the note, which vouched for no
/// more than the segment holds.</item>
/// <item>Unless the note vouched for the end: write again what the page cache holds of the unproven
/// regions and the disk does not (<see cref="UnprovenTail"/>: a failed sync's leftovers). A crash: an
/// unsynced write of bytes nothing proves durable, checked again by the next open.</item>
/// <item>Zero the torn tail (if any), sync the segment. A crash: the next open finds the same torn tail
/// (or part of it), with the same evidence, and truncates it.</item>
/// </list>
/// Recovery writes nothing else (the mirror is rewritten by the writer afterwards, with the recovered
/// last LSN, which recovery synced), so a crash during recovery followed by a second recovery gives the
/// same log (idempotent).
/// </remarks>
internal static partial class LogRecovery
{
    /// <summary>Creates or recovers the log in <paramref name="storage"/>.</summary>
    public static RecoveredLog Recover(IWalStorage storage, WalOptions options, ILogger logger)
    {
        // A repair whose intent is durable is completed first: the log is the old one or the repaired
        // one, never a mix (RepairSteps.cs).
        if (RepairSteps.CompleteInterrupted(storage) is { } repair)
        {
            LogRepairCompleted(logger, storage.DirectoryPath, repair.Number, repair.Segment, repair.Offset, repair.KeptLastLsn + 1, repair.LastRemovedLsn);
        }

        var firstRetained = ReadRetentionPoint(storage);

        // The evidence is read before anything else and kept until the decision is made (a refused
        // open must leave it, so the next open refuses again).
        var evidence = DurabilityEvidence.Read(storage);

        var segments = new List<SegmentInfo>();
        foreach (var name in storage.ListFiles())
        {
            // A cursor's temporary file is left alone: a WalReader in another process may be in the
            // middle of committing it (its next commit replaces a leftover one anyway).
            if (SegmentNames.IsPrepared(name) || (AtomicFile.IsLeftover(name) && !IsCursorTemporary(name)))
            {
                storage.Delete(name);
            }
            else if (SegmentNames.TryParseSegment(name, out var firstLsn))
            {
                if (firstLsn < firstRetained)
                {
                    // Left behind by a retention that was cut short: it was already dropped.
                    storage.Delete(name);
                    continue;
                }

                segments.Add(new SegmentInfo(firstLsn, 0));
            }
        }

        if (segments.Count == 0)
        {
            if (firstRetained > 0)
            {
                throw new WalCorruptedException(RetentionPoint.FileName, 0,
                    $"retention kept the log from LSN {firstRetained}, but no segment is left (the directory was emptied by something else)");
            }

            // Evidence without a segment cannot be tied to a log: the new log gets a new id, which no
            // old note or mirror carries. The note goes before anything is written.
            DeleteNote(storage, evidence);
            return Create(storage, options, logger);
        }

        segments.Sort((a, b) => a.FirstLsn.CompareTo(b.FirstLsn));
        DeleteOrphanIndexes(storage, segments);
        if (firstRetained > 0 && segments[0].FirstLsn != firstRetained)
        {
            throw new WalCorruptedException(SegmentNames.ForSegment(firstRetained), 0,
                $"the log starts at LSN {firstRetained} (retention), but that segment is missing; the first segment present is '{segments[0].Name}'");
        }

        storage.SyncDirectory();
        return RecoverExisting(storage, segments, evidence, options.LogId, logger);
    }

    // Durably, before anything is written: a note left behind would vouch for a tail that later writes
    // and a crash may have torn.
    private static void DeleteNote(IWalStorage storage, DurabilityEvidence evidence)
    {
        if (evidence.NotePresent)
        {
            storage.Delete(CleanClose.FileName);
            storage.SyncDirectory();
        }
    }

    // Sparse indexes are sidecars: one whose segment is gone was left by an interrupted retention.
    private static void DeleteOrphanIndexes(IWalStorage storage, List<SegmentInfo> segments)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var segment in segments)
        {
            present.Add(SparseIndex.FileName(segment.FirstLsn));
        }

        foreach (var name in storage.ListFiles())
        {
            if (name.EndsWith(".idx", StringComparison.Ordinal) && !present.Contains(name))
            {
                storage.Delete(name);
            }
        }
    }

    private static long ReadRetentionPoint(IWalStorage storage)
    {
        var bytes = AtomicFile.Read(storage, RetentionPoint.FileName);
        if (bytes is null)
        {
            return 0;
        }

        if (!RetentionPoint.TryDecode(bytes, out var firstRetained))
        {
            throw new WalCorruptedException(RetentionPoint.FileName, 0, "the retention point file is damaged");
        }

        return firstRetained;
    }

    // A new log: a random id and LSN 1, or the id and first LSN of the log it copies (WalOptions.LogId, FirstLsn).
    private static RecoveredLog Create(IWalStorage storage, WalOptions options, ILogger logger)
    {
        var logId = options.LogId is { } id ? Format.LogId.From(id) : Format.LogId.NewId();
        var first = options.FirstLsn;
        var created = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var file = SegmentFiles.Prepare(storage, options.SegmentSize, 0, zeroFill: options.Durability == Durability.Sync);
        try
        {
            SegmentFiles.Activate(storage, file, new SegmentHeader(logId, first, options.SegmentSize, created));
        }
        catch
        {
            file.Dispose();
            throw;
        }

        LogCreated(logger, storage.DirectoryPath, logId, first);
        return new RecoveredLog(logId, [new SegmentInfo(first, options.SegmentSize, created)], file, SegmentLayout.RecordsStart, first - 1, false, SparseIndex.Empty(first));
    }

    // Validates every segment (LogValidator: opening refuses at the first finding that is not a torn
    // tail) and judges the tail of the last one. With WalOptions.LogId set, the log opens only as itself.
    private static RecoveredLog RecoverExisting(IWalStorage storage, List<SegmentInfo> found, DurabilityEvidence evidence, Guid? requiredId, ILogger logger)
    {
        var names = found.ConvertAll(s => s.Name);
        var validator = new LogValidator(evidence, LogValidator.MajorityLogId(storage, names, out _), Refuse) { TrustCleanClose = true, BuildIndex = true };
        var segments = new SegmentInfo[found.Count];
        for (var i = 0; i < found.Count; i++)
        {
            var last = i == found.Count - 1;
            var file = storage.Open(names[i], writable: last);
            try
            {
                var scan = validator.Check(file, names[i], last);
                var header = scan.Header!.Value;
                if (i == 0 && requiredId is { } required && header.LogId.ToGuid() != required)
                {
                    throw new IOException(
                        $"WalOptions.LogId is {required:N}, but the log in '{storage.DirectoryPath}' is another log (log id {header.LogId}): it opens only as itself.");
                }

                segments[i] = new SegmentInfo(header.FirstLsn, header.SegmentSize, header.CreatedUnixMs);
                if (last)
                {
                    return RecoverTail(storage, file, scan, segments, evidence, validator.Bound.Lsn, logger);
                }
            }
            catch
            {
                if (last)
                {
                    file.Dispose();
                }

                throw;
            }
            finally
            {
                if (!last)
                {
                    file.Dispose();
                }
            }
        }

        throw new InvalidOperationException("unreachable: the last segment returns");
    }

    // A finding that a crash does not explain: opening refuses (and changes nothing).
    private static void Refuse(Finding finding)
    {
        if (!finding.Recoverable)
        {
            throw new WalCorruptedException(finding.Segment, finding.Offset, finding.Lsn, finding.Message);
        }
    }

    private static RecoveredLog RecoverTail(IWalStorage storage, IStorageFile file, SegmentScan scan, SegmentInfo[] segments, DurabilityEvidence evidence, long provenLsn, ILogger logger)
    {
        var header = scan.Header!.Value;
        var (name, offset, lastLsn, verdict) = (scan.Name, scan.RecordsEnd, scan.LastLsn, scan.Tail);
        DeleteNote(storage, evidence);
        UnprovenTail.Restored? restored = null;
        if (!scan.ClosedCleanly)
        {
            // The writer may have faulted on a failed sync in this boot: what the cache holds past the
            // proven records may never reach the disk unless it is written again (UnprovenTail).
            restored = UnprovenTail.Restore(file, scan, provenLsn);
            if (restored is null)
            {
                var proven = Math.Max(provenLsn, scan.KnownDurableLsn);
                LogTailUnchecked(logger, name, proven);
            }
            else if (restored.Bytes > 0)
            {
                LogTailRestored(logger, name, restored.Bytes, restored.FirstOffset, restored.FromLsn, restored.LastLsn);
            }
        }

        long truncated = 0;
        if (verdict.Kind == TailKind.Torn)
        {
            // Zero the torn tail: frames past the damage that still validate could otherwise come back
            // once their LSNs are reused, and a clean tail makes the next recovery find nothing to report.
            Zero(file, offset, verdict.DirtyEnd);
            truncated = verdict.LastNonZeroEnd - offset;
            LogTornTail(logger, name, offset, truncated, lastLsn + 1, Math.Max(verdict.MaxLsnSeen, lastLsn + 1), verdict.Problem);
        }

        // Whatever the previous process wrote may still be only in the page cache: make the recovered
        // records durable before DurableLsn says they are.
        file.DataSync();
        restored?.Verify(file, name);
        LogRecovered(logger, storage.DirectoryPath, segments.Length, segments[0].FirstLsn, lastLsn);
        return new RecoveredLog(header.LogId, segments, file, offset, lastLsn, scan.IsSealed, scan.Index) { TruncatedBytes = truncated };
    }

    private static void Zero(IStorageFile file, long from, long to)
    {
        var zeros = new byte[(int)Math.Min(to - from, 1024 * 1024)];
        for (var at = from; at < to; at += zeros.Length)
        {
            file.Write(at, zeros.AsSpan(0, (int)Math.Min(zeros.Length, to - at)));
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Created a new log in '{Directory}' (log id {LogId}, first LSN {FirstLsn}).")]
    private static partial void LogCreated(ILogger logger, string directory, LogId logId, long firstLsn);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Recovered the log in '{Directory}': {Segments} segment(s), LSNs {FirstLsn} to {LastLsn}.")]
    private static partial void LogRecovered(ILogger logger, string directory, int segments, long firstLsn, long lastLsn);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Recovery truncated the torn tail of segment '{Segment}' at offset {Offset}: dropped {Bytes} bytes holding LSNs {FromLsn} to {ToLsn} at most, none of them proven durable: {Problem}.")]
    private static partial void LogTornTail(ILogger logger, string segment, long offset, long bytes, long fromLsn, long toLsn, string problem);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Recovery found {Bytes} bytes of segment '{Segment}', from offset {Offset}, that the page cache held but the disk did not (a sync most likely failed before the log was closed, in this boot); it wrote them again before its sync. LSNs {FromLsn} to {ToLsn} were not proven durable before.")]
    private static partial void LogTailRestored(ILogger logger, string segment, long bytes, long offset, long fromLsn, long toLsn);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Recovery could not read the tail of segment '{Segment}' past the page cache (the file system does not support direct IO): if a sync failed in this boot before the log was closed, records after LSN {ProvenLsn} may be in the cache only, and recovery's sync cannot tell.")]
    private static partial void LogTailUnchecked(ILogger logger, string segment, long provenLsn);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Recovery completed repair {Number} of the log in '{Directory}', which a crash had cut short: the log is cut in segment '{Segment}' at offset {Offset}; LSNs {FromLsn} to {ToLsn} at most are in quarantine.")]
    private static partial void LogRepairCompleted(ILogger logger, string directory, int number, string segment, long offset, long fromLsn, long toLsn);

    private static bool IsCursorTemporary(string name) =>
        CursorFile.TryParseFileName(name[..^".new".Length], out _);
}
