using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Validation;

/// <summary>
/// What lies past the first bad frame of the last segment (<see cref="FrameSearch"/>): a frame of this
/// log with an LSN at or above the missing one was written after the damage point, and its synced-LSN
/// field tells whether the missing record had been durable when it was written.
/// </summary>
internal readonly record struct TailScan(long LastFrameEnd, long LastNonZeroEnd, long MaxLsnSeen, long CorruptionWitnessOffset, long CorruptionWitnessLsn)
{
    /// <summary>True when a later frame proves the missing record had been durable: real corruption.</summary>
    public bool ProvesCorruption => CorruptionWitnessOffset >= 0;

    /// <summary>Scans [<paramref name="from"/>, <paramref name="end"/>) for frames with LSN ≥ <paramref name="missingLsn"/>.</summary>
    public static TailScan Run(IStorageFile file, uint seed, long from, long end, long missingLsn)
    {
        long lastFrameEnd = -1, maxLsn = 0, witnessOffset = -1, witnessLsn = 0;

        // No more frames can follow than fit: a higher LSN is not one this segment could hold.
        var maxFrames = (end - from) / FrameCodec.HeaderLength;
        using var search = new FrameSearch(file, seed, from, end, missingLsn, missingLsn + maxFrames);
        while (search.Next(out var frame))
        {
            lastFrameEnd = Math.Max(lastFrameEnd, frame.Offset + frame.FrameLength);
            maxLsn = Math.Max(maxLsn, frame.Lsn);
            if (frame.SyncedLsn >= missingLsn && witnessOffset < 0)
            {
                witnessOffset = frame.Offset;
                witnessLsn = frame.Lsn;
            }
        }

        return new TailScan(lastFrameEnd, search.LastNonZeroEnd, maxLsn, witnessOffset, witnessLsn);
    }
}
