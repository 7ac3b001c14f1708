using System.Buffers.Binary;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Validation;

namespace TruthDb.Dataflow.Inspection;

/// <summary>The frame listing behind <see cref="LogInspector.Dump"/>.</summary>
public static partial class LogInspector
{
    private static IEnumerable<FrameInfo> DumpSegments(IWalStorage storage, List<string> names)
    {
        foreach (var name in names)
        {
            if (!SegmentNames.TryParseSegment(name, out var firstLsn))
            {
                continue;
            }

            using var file = storage.Open(name, writable: false);
            if (!LogValidator.TryReadHeader(file, out var header, out _) || !LogValidator.HasValidSize(header))
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

    // What lies from the stop offset to the end of the record area: nothing when it is all zeros (the
    // clean end of a segment); otherwise the bad frame, then every frame of this log that still
    // validates after it (the search the tail rule makes, FrameSearch), each one past the one before.
    private static List<FrameInfo> DescribeDamage(IStorageFile file, string name, uint seed, long from, long end, FrameStatus status)
    {
        var found = new List<FrameInfo>();
        Span<byte> header = stackalloc byte[FrameCodec.HeaderLength];
        if (file.ReadFully(from, header[..(int)Math.Min(header.Length, end - from)]) == header.Length)
        {
            var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
            found.Add(new FrameInfo(name, from, BinaryPrimitives.ReadInt64LittleEndian(header[8..]), BinaryPrimitives.ReadInt64LittleEndian(header[16..]),
                length, FrameCodec.FrameLength(length), ToCheck(status)));
        }

        using var search = new FrameSearch(file, seed, from, end, minLsn: 1, maxLsn: long.MaxValue);
        var next = from + FrameCodec.Alignment;
        while (search.Next(out var frame))
        {
            if (frame.Offset >= next)
            {
                found.Add(new FrameInfo(name, frame.Offset, frame.Lsn, frame.SyncedLsn, frame.PayloadLength, frame.FrameLength, FrameCheck.AfterDamage));
                next = frame.Offset + frame.FrameLength;
            }
        }

        if (search.LastNonZeroEnd < 0)
        {
            found.Clear();
        }

        return found;
    }
}
