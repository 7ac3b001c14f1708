using System.Buffers.Binary;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Recovery;

/// <summary>
/// The IO of a repair (<c>truthdb repair</c> decides it, in <c>Repair/LogRepair.cs</c>), with the writer
/// lock held. It lives with recovery because every open completes a repair a crash cut short, and
/// recovery knows nothing of how a repair is planned. Order of operations, and what a crash at each point
/// leaves (every step is idempotent, so completing a repair redoes whatever may not have happened):
/// <list type="number">
/// <item>Write the intent <c>repair-NNNN.intent</c> atomically (<see cref="AtomicFile"/>: temporary file,
/// fdatasync, rename, directory sync). A crash before the rename is durable: the old log, untouched (a
/// leftover <c>.new</c> file, which the next open deletes). After: the repair is decided; the next
/// <c>truthdb repair</c> or open completes it from the intent alone.</item>
/// <item>Copy the cut segment's bytes from the cut to its last non-zero byte into
/// <c>repair-NNNN.SEGMENT.from-OFFSET.quarantine</c>: written to a temporary file, fdatasynced, renamed,
/// directory synced. A crash before the rename is durable: no quarantine file, the segment unchanged,
/// so completing copies again.</item>
/// <item>Lower the evidence: delete the clean-close note and sync the directory; lower the watermark
/// mirror's written and durable LSNs to the last kept LSN (and mark it closed), fdatasync it. Neither
/// may vouch for an LSN past the cut, or the next open would refuse the repaired log. A crash: done
/// again.</item>
/// <item>Cut: zero the cut segment from the cut to its last non-zero byte (a seal trailer included: the
/// segment becomes the last, unsealed one), fdatasync it, delete its sparse index. Only after the
/// quarantine copy is durable. A crash: zeroing again gives the same bytes.</item>
/// <item>Rename every removed segment (and its sparse index is deleted) to
/// <c>repair-NNNN.SEGMENT.quarantine</c>, sync the directory. A crash: those not yet renamed are
/// renamed when completing.</item>
/// <item>Rename the intent to <c>repair-NNNN.done</c> (the record of the repair), sync the directory.</item>
/// </list>
/// Until the last step, <c>truthdb verify</c> may see a half-cut log (for example a segment that lost
/// its seal trailer with later segments still present) and reports it as corruption; opening the log
/// completes the repair first.
/// </summary>
internal static class RepairSteps
{
    private const int CopyChunk = 1024 * 1024;

    /// <summary>Carries out <paramref name="intent"/>: writes it durably, then every step after it.</summary>
    public static void Apply(IWalStorage storage, RepairIntent intent)
    {
        AtomicFile.Write(storage, RepairRecord.IntentName(intent.Number), RepairRecord.Encode(intent));
        Execute(storage, intent);
    }

    /// <summary>
    /// Completes a repair whose intent is durable but whose steps a crash may have cut short; called
    /// with the writer lock held (by <c>truthdb repair</c> and by recovery). Returns its intent, or null
    /// when no repair was pending.
    /// </summary>
    /// <exception cref="IOException">The intent is damaged: the repair cannot be completed (nothing was changed).</exception>
    public static RepairIntent? CompleteInterrupted(IWalStorage storage)
    {
        if (Pending(storage) is not { } pending)
        {
            return null;
        }

        Execute(storage, pending);
        return pending;
    }

    /// <summary>The intent of a repair that a crash cut short, or null.</summary>
    /// <exception cref="IOException">The intent is damaged.</exception>
    public static RepairIntent? Pending(IWalStorage storage)
    {
        foreach (var name in storage.ListFiles())
        {
            if (RepairRecord.IsIntent(name))
            {
                return RepairRecord.TryDecode(AtomicFile.Read(storage, name) ?? [])
                    ?? throw new IOException($"The record of an interrupted repair, '{name}' in '{storage.DirectoryPath}', is damaged: the repair cannot be completed. Nothing was changed.");
            }
        }

        return null;
    }

    private static void Execute(IWalStorage storage, RepairIntent intent)
    {
        var cuts = intent.Offset > 0;
        if (cuts && intent.CutEnd > intent.Offset)
        {
            Quarantine(storage, intent.Segment, intent.Offset, intent.CutEnd, RepairRecord.QuarantineName(intent.Number, intent.Segment, intent.Offset));
        }

        LowerEvidence(storage, intent.KeptLastLsn);
        if (cuts)
        {
            if (intent.CutEnd > intent.Offset && Exists(storage, intent.Segment))
            {
                using var file = storage.Open(intent.Segment, writable: true);
                Zero(file, intent.Offset, intent.CutEnd);
                file.DataSync();
            }

            storage.Delete(SparseIndex.FileName(FirstLsn(intent.Segment)));
        }

        foreach (var segment in intent.RemovedSegments)
        {
            if (Exists(storage, segment))
            {
                storage.Rename(segment, RepairRecord.QuarantineName(intent.Number, segment, 0));
            }

            storage.Delete(SparseIndex.FileName(FirstLsn(segment)));
        }

        storage.SyncDirectory();
        storage.Rename(RepairRecord.IntentName(intent.Number), RepairRecord.RecordName(intent.Number));
        storage.SyncDirectory();
    }

    private static void Quarantine(IWalStorage storage, string segment, long from, long to, string name)
    {
        if (Exists(storage, name))
        {
            // Renamed into place only once complete and synced.
            return;
        }

        var temporary = name + ".new";
        storage.Delete(temporary);
        using (var source = storage.Open(segment, writable: false))
        using (var target = storage.Create(temporary))
        {
            var buffer = new byte[(int)Math.Min(CopyChunk, to - from)];
            for (var at = from; at < to; at += buffer.Length)
            {
                var length = (int)Math.Min(buffer.Length, to - at);
                if (source.ReadFully(at, buffer.AsSpan(0, length)) != length)
                {
                    throw new IOException($"Repair could not read '{segment}' in '{storage.DirectoryPath}' up to offset {to}: the file is shorter than when the repair was planned.");
                }

                target.Write(at - from, buffer.AsSpan(0, length));
            }

            target.DataSync();
        }

        storage.Rename(temporary, name);
        storage.SyncDirectory();
    }

    // The clean-close note and the watermark mirror must not vouch for an LSN past the cut.
    private static void LowerEvidence(IWalStorage storage, long keptLastLsn)
    {
        if (Exists(storage, CleanClose.FileName))
        {
            storage.Delete(CleanClose.FileName);
            storage.SyncDirectory();
        }

        if (!Exists(storage, WatermarkMirror.FileName))
        {
            return;
        }

        using var mirror = storage.Open(WatermarkMirror.FileName, writable: true);
        var bytes = new byte[WatermarkMirror.Size];
        if (mirror.ReadFully(0, bytes) != bytes.Length || !WatermarkMirror.Matches(bytes, LogId.Read(bytes.AsSpan(8))))
        {
            // Not a mirror: no evidence, nothing to lower.
            return;
        }

        var written = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(WatermarkMirror.WrittenOffset));
        var durable = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(WatermarkMirror.DurableOffset));
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(WatermarkMirror.WrittenOffset), Math.Min(written, keptLastLsn));
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(WatermarkMirror.DurableOffset), Math.Min(durable, keptLastLsn));
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(WatermarkMirror.OpenOffset), 0);
        mirror.Write(0, bytes.AsSpan(0, WatermarkMirror.OpenOffset + 8));
        mirror.DataSync();
    }

    private static void Zero(IStorageFile file, long from, long to)
    {
        var zeros = new byte[(int)Math.Min(to - from, CopyChunk)];
        for (var at = from; at < to; at += zeros.Length)
        {
            file.Write(at, zeros.AsSpan(0, (int)Math.Min(zeros.Length, to - at)));
        }
    }

    private static bool Exists(IWalStorage storage, string name) => storage.ListFiles().Contains(name, StringComparer.Ordinal);

    private static long FirstLsn(string segment) => SegmentNames.TryParseSegment(segment, out var firstLsn) ? firstLsn : 0;
}
