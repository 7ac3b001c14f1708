using System.Buffers;
using System.Buffers.Binary;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Validation;

namespace TruthDb.Dataflow.Inspection;

/// <summary>The frame listing behind <see cref="LogInspector.Dump"/>.</summary>
public static partial class LogInspector
{
    private const int ScanWindow = 256 * 1024;

    private static IEnumerable<FrameInfo> DumpSegments(FileSystemStorage storage, List<string> names)
    {
        foreach (var name in names)
        {
            if (!SegmentNames.TryParseSegment(name, out var firstLsn))
            {
                continue;
            }

            using var file = storage.Open(name, writable: false);
            if (!TryReadHeader(file, out var header))
            {
                continue;
            }

            var recordsEnd = SegmentLayout.RecordsEnd(header.SegmentSize);
            var seed = header.LogId.Seed;
            FrameStatus status;
            long stop;
            using (var reader = new StoredFrameReader(file, seed, SegmentLayout.RecordsStart, recordsEnd, firstLsn))
            {
                while (true)
                {
                    var offset = reader.Offset;
                    status = reader.Next();
                    if (status != FrameStatus.Success)
                    {
                        stop = reader.Offset;
                        break;
                    }

                    var frame = reader.Current;
                    yield return new FrameInfo(name, offset, frame.Lsn, frame.SyncedLsn, frame.PayloadLength, frame.FrameLength, FrameCheck.Valid);
                }
            }

            foreach (var frame in DescribeDamage(file, name, seed, stop, recordsEnd, status))
            {
                yield return frame;
            }
        }
    }

    private static bool TryReadHeader(IStorageFile file, out SegmentHeader header)
    {
        Span<byte> bytes = stackalloc byte[SegmentHeader.Length];
        var read = file.ReadFully(0, bytes);
        return SegmentHeader.TryRead(bytes[..read], out header, out _)
            && header.SegmentSize is >= WalOptions.MinSegmentSize and <= WalOptions.MaxSegmentSize
            && header.SegmentSize % WalOptions.SegmentSizeGranularity == 0;
    }

    // What lies from the stop offset to the end of the record area: nothing when it is all zeros (the
    // clean end of a segment); otherwise the bad frame, then every frame of this log that still
    // validates after it.
    private static List<FrameInfo> DescribeDamage(IStorageFile file, string name, uint seed, long from, long end, FrameStatus status)
    {
        var found = new List<FrameInfo>();
        var buffer = ArrayPool<byte>.Shared.Rent(ScanWindow + FrameCodec.HeaderLength);
        try
        {
            var next = from + FrameCodec.Alignment;
            var anyNonZero = false;
            for (var windowStart = from; windowStart < end; windowStart += ScanWindow)
            {
                var length = file.ReadFully(windowStart, buffer.AsSpan(0, (int)Math.Min(ScanWindow + FrameCodec.HeaderLength, end - windowStart)));
                var span = buffer.AsSpan(0, length);
                if (windowStart == from)
                {
                    anyNonZero = span.ContainsAnyExcept((byte)0);
                    if (length >= FrameCodec.HeaderLength)
                    {
                        found.Add(new FrameInfo(name, from, BinaryPrimitives.ReadInt64LittleEndian(span[8..]), BinaryPrimitives.ReadInt64LittleEndian(span[16..]),
                            BinaryPrimitives.ReadUInt32LittleEndian(span), FrameCodec.FrameLength(BinaryPrimitives.ReadUInt32LittleEndian(span)), ToCheck(status)));
                    }
                }
                else if (!anyNonZero)
                {
                    anyNonZero = span.ContainsAnyExcept((byte)0);
                }

                for (var i = 0; i < Math.Min(ScanWindow, length - FrameCodec.HeaderLength + 1); i += FrameCodec.Alignment)
                {
                    var at = windowStart + i;
                    if (at < next
                        || !FrameCodec.TryPeekHeader(span[i..], end - at, out var lsn, out var synced, out var frameLength)
                        || lsn <= 0 || !StoredFrame.IsValid(file, seed, at, span[i..], frameLength))
                    {
                        continue;
                    }

                    found.Add(new FrameInfo(name, at, lsn, synced, BinaryPrimitives.ReadUInt32LittleEndian(span[i..]), frameLength, FrameCheck.AfterDamage));
                    next = at + frameLength;
                }
            }

            if (!anyNonZero)
            {
                found.Clear();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return found;
    }
}
