using System.Buffers;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Validation;

namespace TruthDb.Dataflow.Recovery;

/// <summary>
/// What lies past the first bad frame of the last segment. Frames are 8-byte aligned, so every
/// aligned offset up to the end of the record area is tried: a frame of this log (its checksum is
/// seeded by the log id) with an LSN at or above the missing one was written after the damage point.
/// Its synced-LSN field tells whether the missing record had been durable when it was written.
/// </summary>
internal readonly record struct TailScan(long LastFrameEnd, long LastNonZeroEnd, long MaxLsnSeen, long CorruptionWitnessOffset, long CorruptionWitnessLsn)
{
    private const int Window = 256 * 1024;

    /// <summary>True when a later frame proves the missing record had been durable: real corruption.</summary>
    public bool ProvesCorruption => CorruptionWitnessOffset >= 0;

    /// <summary>Scans [<paramref name="from"/>, <paramref name="end"/>) for frames with LSN ≥ <paramref name="missingLsn"/>.</summary>
    public static TailScan Run(IStorageFile file, uint seed, long from, long end, long missingLsn)
    {
        long lastFrameEnd = -1, lastNonZeroEnd = -1, maxLsn = 0, witnessOffset = -1, witnessLsn = 0;
        var maxFrames = (end - from) / FrameCodec.HeaderLength;
        var buffer = ArrayPool<byte>.Shared.Rent(Window + FrameCodec.HeaderLength);
        try
        {
            for (var windowStart = from; windowStart < end; windowStart += Window)
            {
                var length = file.ReadFully(windowStart, buffer.AsSpan(0, (int)Math.Min(Window + FrameCodec.HeaderLength, end - windowStart)));
                var span = buffer.AsSpan(0, length);
                var lastNonZero = span[..Math.Min(length, Window)].LastIndexOfAnyExcept((byte)0);
                if (lastNonZero >= 0)
                {
                    lastNonZeroEnd = windowStart + lastNonZero + 1;
                }

                for (var i = 0; i < Math.Min(Window, length - FrameCodec.HeaderLength + 1); i += FrameCodec.Alignment)
                {
                    var at = windowStart + i;
                    if (!FrameCodec.TryPeekHeader(span[i..], end - at, out var lsn, out var synced, out var frameLength)
                        || lsn < missingLsn || lsn > missingLsn + maxFrames || !StoredFrame.IsValid(file, seed, at, span[i..], frameLength))
                    {
                        continue;
                    }

                    lastFrameEnd = Math.Max(lastFrameEnd, at + frameLength);
                    maxLsn = Math.Max(maxLsn, lsn);
                    if (synced >= missingLsn && witnessOffset < 0)
                    {
                        witnessOffset = at;
                        witnessLsn = lsn;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return new TailScan(lastFrameEnd, lastNonZeroEnd, maxLsn, witnessOffset, witnessLsn);
    }
}
