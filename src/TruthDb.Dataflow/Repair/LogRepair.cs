using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Recovery;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Repair;

/// <summary>
/// Explicit repair of a damaged log (<c>truthdb repair</c>): cuts the log at its first damage and moves
/// every byte after the cut into quarantine files in the log directory, so that nothing is destroyed
/// and the log opens again with the records before the damage. Opening never does this by itself: it
/// refuses damage that may hold durable records (<see cref="WalCorruptedException"/>).
/// </summary>
/// <remarks>
/// It lives apart from recovery: recovery runs at every open and may only drop what was never proven
/// durable; repair removes records that may have been acknowledged, so it runs only when asked. It
/// finds the damage with the same scan as <see cref="LogInspector.Verify"/> and applies its cut with
/// the crash-safe steps of <c>Recovery/RepairSteps.cs</c> (which every open uses to complete a repair
/// a crash cut short).
/// </remarks>
public static class LogRepair
{
    /// <summary>
    /// What <see cref="Repair(string)"/> would do to the log in <paramref name="directory"/>, read-only:
    /// takes no lock and changes nothing.
    /// </summary>
    /// <param name="directory">The log directory.</param>
    /// <returns>The plan; <see cref="RepairPlan.IsNeeded"/> is false when there is nothing to repair.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="IOException">The log cannot be repaired by a cut (its first segment's header is damaged), or reading failed.</exception>
    public static RepairPlan Plan(string directory)
    {
        var storage = OpenStorage(directory);
        return RepairSteps.Pending(storage) is { } pending ? PlanOf(storage.DirectoryPath, pending, interrupted: true) : PlanCut(storage).Plan;
    }

    /// <summary>
    /// Repairs the log in <paramref name="directory"/>: takes the writer lock (fails while a writer has the
    /// log open), completes a repair that a crash cut short, then cuts the log at its first damage and
    /// moves everything after the cut into quarantine. A crash at any point leaves the old log or the
    /// repaired one: the next repair, or the next open, completes a repair once its intent is durable.
    /// </summary>
    /// <param name="directory">The log directory.</param>
    /// <returns>What was done; <see cref="RepairPlan.IsNeeded"/> is false when there was nothing to repair.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="IOException">A writer holds the log, the log cannot be repaired by a cut, or an IO operation failed.</exception>
    public static RepairPlan Repair(string directory) => Repair(OpenStorage(directory));

    /// <summary>Repairs the log in <paramref name="storage"/> (see <see cref="Repair(string)"/>).</summary>
    internal static RepairPlan Repair(IWalStorage storage)
    {
        using var writerLock = storage.AcquireWriterLock();
        var completed = RepairSteps.CompleteInterrupted(storage);
        var (plan, cutEnd) = PlanCut(storage);
        if (!plan.IsNeeded)
        {
            return completed is null ? plan : PlanOf(storage.DirectoryPath, completed, interrupted: true);
        }

        // The cursors first: each reset is complete in itself (a crash between two leaves the rest, and
        // the cut, to the next repair, which finds them as damaged as before).
        for (var i = 0; i < plan.ResetCursors.Count; i++)
        {
            ResetCursor(storage, plan.ResetCursors[i], plan.CursorQuarantineFiles[i]);
        }

        if (plan.CutsLog)
        {
            RepairSteps.Apply(storage, IntentOf(plan, cutEnd));
        }

        return plan;
    }

    // Keeps the damaged file's bytes in quarantine (durably), then commits the cursor at LSN 0 in its
    // place (atomically). A file that is intact again or gone by now (a reader in another process
    // committed or deleted the cursor meanwhile: readers take no writer lock) is left as it is.
    private static void ResetCursor(IWalStorage storage, string name, string quarantine)
    {
        var fileName = CursorFile.FileName(name);
        if (AtomicFile.Read(storage, fileName) is not { } bytes || CursorFile.TryDecode(bytes, out _))
        {
            return;
        }

        AtomicFile.Write(storage, quarantine, bytes);
        AtomicFile.Write(storage, fileName, CursorFile.Encode(0));
    }

    private static RepairIntent IntentOf(RepairPlan plan, long cutEnd) => new(
        plan.Number, plan.Segment, plan.Offset, cutEnd, plan.KeptLastLsn, plan.LastRemovedLsn, plan.RemovedSegments, plan.QuarantineFiles, plan.QuarantineBytes, plan.Damage);

    private static RepairPlan PlanOf(string directory, RepairIntent intent, bool interrupted) => new(directory)
    {
        IsNeeded = true,
        IsInterrupted = interrupted,
        Number = intent.Number,
        Segment = intent.Segment,
        Offset = intent.Offset,
        KeptLastLsn = intent.KeptLastLsn,
        LastRemovedLsn = intent.LastRemovedLsn,
        RemovedSegments = intent.RemovedSegments,
        QuarantineFiles = intent.QuarantineFiles,
        QuarantineBytes = intent.QuarantineBytes,
        Damage = intent.Damage,
    };

    // Where the first damage is, and what cutting there removes. Read-only.
    private static (RepairPlan Plan, long CutEnd) PlanCut(IWalStorage storage)
    {
        var report = LogInspector.VerifyStorage(storage);
        if (report.IsClean)
        {
            return (new RepairPlan(storage.DirectoryPath), 0);
        }

        var number = NextNumber(storage);
        var cursors = new List<string>();
        var cursorQuarantine = new List<string>();
        foreach (var damaged in report.Findings)
        {
            if (damaged.Condition == LogCondition.DamagedCursor && CursorFile.TryParseFileName(damaged.Segment, out var name))
            {
                cursors.Add(name);
                cursorQuarantine.Add(RepairRecord.QuarantineName(number, damaged.Segment, 0));
            }
        }

        if (FirstDamage(report) is not { } first)
        {
            var plan = new RepairPlan(storage.DirectoryPath)
            {
                IsNeeded = true,
                Damage = Describe(report.Findings[0]),
                Number = number,
                ResetCursors = cursors,
                CursorQuarantineFiles = cursorQuarantine,
            };
            return (plan, 0);
        }

        var segments = report.Segments;
        var (index, offset, finding) = first;
        var cut = segments[index];
        if (offset == 0 && index == 0)
        {
            throw new IOException(
                $"Repair cannot cut the log in '{storage.DirectoryPath}': its first segment '{cut.Name}' is not a valid segment of the log ({finding}), so no part of the log can be kept. Nothing was changed; move the directory aside.");
        }

        var kept = offset == 0 ? segments[index - 1].LastLsn : finding.Lsn > 0 ? finding.Lsn - 1 : cut.LastLsn;
        var removed = new List<string>();
        var quarantine = new List<string>();
        long bytes = 0, cutEnd = 0, lastRemoved = report.ProvenDurableLsn;
        if (offset > 0)
        {
            using var file = storage.Open(cut.Name, writable: false);
            cutEnd = EndOfNonZero(file, offset);
            if (cutEnd > offset)
            {
                quarantine.Add(RepairRecord.QuarantineName(number, cut.Name, offset));
                bytes += cutEnd - offset;
            }

            lastRemoved = Math.Max(lastRemoved, cut.IsSealed ? cut.KnownDurableLsn : 0);
        }

        for (var i = offset == 0 ? index : index + 1; i < segments.Count; i++)
        {
            removed.Add(segments[i].Name);
            quarantine.Add(RepairRecord.QuarantineName(number, segments[i].Name, 0));
            bytes += segments[i].FileLength;
            lastRemoved = Math.Max(lastRemoved, segments[i].LastLsn);
        }

        var cutPlan = new RepairPlan(storage.DirectoryPath)
        {
            IsNeeded = true,
            Damage = Describe(finding),
            Number = number,
            Segment = cut.Name,
            Offset = offset,
            KeptLastLsn = Math.Max(kept, 0),
            LastRemovedLsn = lastRemoved,
            RemovedSegments = removed,
            QuarantineFiles = quarantine,
            QuarantineBytes = bytes,
            ResetCursors = cursors,
            CursorQuarantineFiles = cursorQuarantine,
        };
        return (cutPlan, cutEnd);
    }

    private static string Describe(LogFinding finding) => finding.Condition == LogCondition.DamagedCursor
        ? $"{finding.Condition} in {finding.Segment}: {finding.Message}"
        : $"{finding.Condition} in segment {finding.Segment} at offset {finding.Offset}{(finding.Lsn > 0 ? $", LSN {finding.Lsn}" : string.Empty)}: {finding.Message}";

    // The earliest damage of the segments in log order, as (segment index, cut offset, finding); null
    // when only cursors are damaged. A finding in a segment's header, or a segment that is not valid at
    // all, removes the whole segment (offset 0).
    private static (int Index, long Offset, LogFinding Finding)? FirstDamage(VerifyReport report)
    {
        (int Index, long Offset, LogFinding Finding)? first = null;
        foreach (var finding in report.Findings)
        {
            if (finding.Condition == LogCondition.DamagedCursor)
            {
                continue;
            }

            var index = 0;
            while (index < report.Segments.Count && report.Segments[index].Name != finding.Segment)
            {
                index++;
            }

            var offset = finding.Offset < SegmentLayout.RecordsStart || finding.Condition == LogCondition.DamagedSegment ? 0 : finding.Offset;
            if (first is not { } best || index < best.Index || (index == best.Index && offset < best.Offset))
            {
                first = (index, offset, finding);
            }
        }

        return first;
    }

    private static int NextNumber(IWalStorage storage)
    {
        var next = 1;
        foreach (var name in storage.ListFiles())
        {
            // A leftover temporary file (".new") of a repair whose intent never became durable does not count.
            if (!AtomicFile.IsLeftover(name) && RepairRecord.TryParseNumber(name, out var number))
            {
                next = Math.Max(next, number + 1);
            }
        }

        return next;
    }

    // The end of the last non-zero byte at or after `from` (or `from` when all of it is zeros).
    private static long EndOfNonZero(IStorageFile file, long from)
    {
        const int Window = 256 * 1024;
        var buffer = new byte[Window];
        var end = from;
        for (var at = from; at < file.Length; at += Window)
        {
            var read = file.ReadFully(at, buffer);
            var last = buffer.AsSpan(0, read).LastIndexOfAnyExcept((byte)0);
            if (last >= 0)
            {
                end = at + last + 1;
            }

            if (read < Window)
            {
                break;
            }
        }

        return end;
    }

    private static FileSystemStorage OpenStorage(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"The log directory '{Path.GetFullPath(directory)}' does not exist.");
        }

        return new FileSystemStorage(directory);
    }
}
