using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Validation;

/// <summary>What ends the last segment of a log, as <see cref="TailRule.Judge"/> decided.</summary>
internal enum TailKind
{
    /// <summary>Nothing follows the last valid frame (zeros, or the end of the record area): the clean end of the log.</summary>
    Clean,

    /// <summary>A bad frame (or stale non-zero bytes) that no evidence proves durable: a torn tail, which opening truncates.</summary>
    Torn,

    /// <summary>The clean-close note or the watermark mirror proves durable a record that is damaged or missing.</summary>
    ProvenDurable,

    /// <summary>A valid frame after the bad one was written when the bad record was already durable (its synced-LSN field).</summary>
    WitnessedDurable,
}

/// <summary>The decision about the end of the last segment, with what it rests on.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Problem">For anything but <see cref="TailKind.Clean"/>: what was found and why it is (or is not) durable, as a clause.</param>
/// <param name="DirtyEnd">For <see cref="TailKind.Torn"/>: the end of the last non-zero byte or frame after the damage.</param>
/// <param name="LastNonZeroEnd">For <see cref="TailKind.Torn"/>: the end of the last non-zero byte after the damage.</param>
/// <param name="MaxLsnSeen">For <see cref="TailKind.Torn"/>: the highest LSN of a frame of this log after the damage (0 when none).</param>
/// <param name="ZeroHead">For <see cref="TailKind.Torn"/>: zeros where the next frame should start (stale bytes further on).</param>
internal readonly record struct TailVerdict(TailKind Kind, string Problem, long DirtyEnd, long LastNonZeroEnd, long MaxLsnSeen, bool ZeroHead)
{
    /// <summary>True when a durable record is damaged: opening refuses.</summary>
    public bool IsCorruption => Kind is TailKind.ProvenDurable or TailKind.WitnessedDurable;
}

/// <summary>
/// The one rule, applied by <see cref="LogValidator"/> for recovery and for inspection (<c>truthdb verify</c>),
/// for what follows the last valid frame of the last segment (docs/format.md section 12, docs/durability.md):
/// <list type="number">
/// <item>When a valid frame of the log after the damage was written once the missing record was
/// durable (its synced-LSN field says so): corruption.</item>
/// <item>Otherwise, when persisted evidence (<see cref="DurabilityEvidence"/>) proves an LSN past the
/// last valid frame durable, that record is damaged or missing: corruption, whatever the bytes look
/// like.</item>
/// <item>Otherwise non-zero bytes after the last valid frame are a torn tail: nothing proves them
/// durable, and opening the log truncates them.</item>
/// </list>
/// </summary>
internal static class TailRule
{
    /// <summary>Judges the end of the last segment. Reads, never writes.</summary>
    /// <param name="file">The last segment.</param>
    /// <param name="seed">The log's checksum seed.</param>
    /// <param name="stop">The offset just past the last valid frame.</param>
    /// <param name="recordsEnd">The end of the segment's record area.</param>
    /// <param name="lastLsn">The LSN of the last valid frame (of the whole log).</param>
    /// <param name="status">Why reading stopped at <paramref name="stop"/>.</param>
    /// <param name="isSealed">True when the segment has a valid seal trailer matching its frames.</param>
    /// <param name="bound">What <see cref="DurabilityEvidence.Bound"/> proves for this log.</param>
    /// <param name="scan">False to skip the scan past <paramref name="stop"/> (a clean-close note that matches exactly says nothing follows).</param>
    public static TailVerdict Judge(IStorageFile file, uint seed, long stop, long recordsEnd, long lastLsn, FrameStatus status, bool isSealed, (long Lsn, string Source) bound, bool scan)
    {
        var missing = lastLsn + 1;
        var scans = !isSealed && scan && stop < recordsEnd;
        var tail = scans ? TailScan.Run(file, seed, stop, recordsEnd, missing) : default;
        if (scans && tail.ProvesCorruption)
        {
            return new TailVerdict(TailKind.WitnessedDurable,
                $"the frame of LSN {missing} is {Describe(status)}, but the valid frame of LSN {tail.CorruptionWitnessLsn} at offset {tail.CorruptionWitnessOffset} was written after LSN {missing} was durable",
                0, 0, 0, false);
        }

        if (bound.Lsn >= missing)
        {
            var what = isSealed || stop >= recordsEnd
                ? $"the log ends at LSN {lastLsn} (its last segment is {(isSealed ? "sealed" : "full")})"
                : IsZero(file, stop, recordsEnd)
                    ? $"the log ends at LSN {lastLsn} (zeros where the frame of LSN {missing} should be)"
                    : $"the frame of LSN {missing} is {Describe(status)}";
            var lsns = bound.Lsn == missing ? $"LSN {missing} was" : $"LSNs {missing} to {bound.Lsn} were";
            return new TailVerdict(TailKind.ProvenDurable,
                $"{what}, but {bound.Source} proves every LSN up to {bound.Lsn} durable: {lsns} durable and {(bound.Lsn == missing ? "is" : "are")} damaged or missing",
                0, 0, 0, false);
        }

        if (!scans)
        {
            return default;
        }

        var dirtyEnd = Math.Max(tail.LastNonZeroEnd, tail.LastFrameEnd);
        if (dirtyEnd <= stop)
        {
            return default;
        }

        var zeroHead = IsZero(file, stop, Math.Min(recordsEnd, stop + FrameCodec.HeaderLength));
        var found = zeroHead
            ? $"zeros where the frame of LSN {missing} should be, with non-zero bytes after them"
            : $"the frame of LSN {missing} is {Describe(status)}";
        var proven = bound.Lsn > 0 ? $"the highest LSN proven durable is {bound.Lsn}, by {bound.Source}" : "no clean-close note or watermark mirror of this log proves any LSN durable";
        return new TailVerdict(TailKind.Torn,
            $"{found}; no later frame records it as durable and {proven}",
            dirtyEnd, tail.LastNonZeroEnd, tail.MaxLsnSeen >= missing ? tail.MaxLsnSeen : 0, zeroHead);
    }

    /// <summary>Why a frame did not validate, in words.</summary>
    public static string Describe(FrameStatus status) => status switch
    {
        FrameStatus.Truncated => "cut off (its length runs past the record area or the file)",
        FrameStatus.ChecksumMismatch => "damaged (checksum mismatch: zeros, garbage or a torn write)",
        FrameStatus.OutOfSequence => "out of sequence (a frame of this log with another LSN)",
        _ => status.ToString(),
    };

    private static bool IsZero(IStorageFile file, long from, long to)
    {
        var buffer = new byte[(int)Math.Min(to - from, 256 * 1024)];
        for (var at = from; at < to; at += buffer.Length)
        {
            var read = file.ReadFully(at, buffer.AsSpan(0, (int)Math.Min(buffer.Length, to - at)));
            if (buffer.AsSpan(0, read).ContainsAnyExcept((byte)0))
            {
                return false;
            }

            if (read == 0)
            {
                break;
            }
        }

        return true;
    }
}
