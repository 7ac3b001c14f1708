using System.Buffers.Binary;

namespace TruthDb.Dataflow.Format;

/// <summary>
/// A sparse index of one segment: the LSN and offset of the first frame at or after every
/// <see cref="Interval"/> bytes of the record area, so a reader seeks close to any LSN and scans at
/// most one interval. Immutable: the writer publishes a new instance as entries are added.
/// On disk (<c>&lt;first LSN&gt;.idx</c>, written when the segment is sealed, rebuilt by a scan when
/// missing or damaged):
/// <code>
///  0  8  magic "TDBIDX\r\n"
///  8  8  the segment's first LSN
/// 16  4  entry count N
/// 20 16N entries: LSN (8), offset (8)
///  ..  4  CRC-32C of everything before it
/// </code>
/// </summary>
internal sealed class SparseIndex
{
    /// <summary>Bytes of record area between entries.</summary>
    public const long Interval = 64 * 1024;

    private const int HeaderLength = 20;
    private const int EntryLength = 16;

    private readonly long[] _lsns;
    private readonly long[] _offsets;

    private SparseIndex(long firstLsn, long[] lsns, long[] offsets, int count)
    {
        FirstLsn = firstLsn;
        _lsns = lsns;
        _offsets = offsets;
        Count = count;
    }

    /// <summary>The segment's first LSN.</summary>
    public long FirstLsn { get; }

    /// <summary>Entries in the index.</summary>
    public int Count { get; }

    /// <summary>An index with no entries (seeks start at the segment's first frame).</summary>
    public static SparseIndex Empty(long firstLsn) => new(firstLsn, [], [], 0);

    /// <summary>The sidecar file name of the segment starting at <paramref name="firstLsn"/>.</summary>
    public static string FileName(long firstLsn) => SegmentNames.ForSegment(firstLsn)[..^SegmentNames.SegmentExtension.Length] + ".idx";

    /// <summary>True when a frame starting at <paramref name="offset"/> begins a new interval.</summary>
    public bool Wants(long offset) =>
        offset - SegmentLayout.RecordsStart >= (Count == 0 ? Interval : _offsets[Count - 1] - SegmentLayout.RecordsStart + Interval);

    /// <summary>This index plus an entry (the arrays are shared while they have room; readers only see <see cref="Count"/> entries).</summary>
    public SparseIndex With(long lsn, long offset)
    {
        var lsns = _lsns;
        var offsets = _offsets;
        if (Count == lsns.Length)
        {
            Array.Resize(ref lsns, Math.Max(16, Count * 2));
            Array.Resize(ref offsets, lsns.Length);
        }

        lsns[Count] = lsn;
        offsets[Count] = offset;
        return new SparseIndex(FirstLsn, lsns, offsets, Count + 1);
    }

    /// <summary>Where to start reading for <paramref name="lsn"/>: the closest entry at or below it.</summary>
    public (long Lsn, long Offset) Seek(long lsn)
    {
        int lo = 0, hi = Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (_lsns[mid] <= lsn)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found < 0 ? (FirstLsn, SegmentLayout.RecordsStart) : (_lsns[found], _offsets[found]);
    }

    /// <summary>The sidecar's bytes.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[HeaderLength + (Count * EntryLength) + 4];
        "TDBIDX\r\n"u8.CopyTo(bytes);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), FirstLsn);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), Count);
        for (var i = 0; i < Count; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(HeaderLength + (i * EntryLength)), _lsns[i]);
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(HeaderLength + (i * EntryLength) + 8), _offsets[i]);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
        return bytes;
    }

    /// <summary>Parses a sidecar of the segment starting at <paramref name="firstLsn"/>; false when it is damaged or inconsistent.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, long firstLsn, long segmentSize, out SparseIndex index)
    {
        index = Empty(firstLsn);
        if (bytes.Length < HeaderLength + 4 || !bytes[..8].SequenceEqual("TDBIDX\r\n"u8)
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]) != Crc32C.Compute(bytes[..^4])
            || BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]) != firstLsn)
        {
            return false;
        }

        var count = BinaryPrimitives.ReadInt32LittleEndian(bytes[16..]);
        if (count < 0 || bytes.Length != HeaderLength + ((long)count * EntryLength) + 4)
        {
            return false;
        }

        var lsns = new long[count];
        var offsets = new long[count];
        long previousLsn = firstLsn, previousOffset = SegmentLayout.RecordsStart;
        for (var i = 0; i < count; i++)
        {
            lsns[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(HeaderLength + (i * EntryLength))..]);
            offsets[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(HeaderLength + (i * EntryLength) + 8)..]);
            if (lsns[i] <= previousLsn || offsets[i] <= previousOffset || offsets[i] >= SegmentLayout.RecordsEnd(segmentSize) || offsets[i] % FrameCodec.Alignment != 0)
            {
                return false;
            }

            (previousLsn, previousOffset) = (lsns[i], offsets[i]);
        }

        index = new SparseIndex(firstLsn, lsns, offsets, count);
        return true;
    }

    /// <summary>Builds the index of a segment by scanning its frames (up to <paramref name="lastLsn"/>).</summary>
    public static SparseIndex Build(ReadOnlySpan<byte> segment, uint seed, long firstLsn, long lastLsn)
    {
        var index = Empty(firstLsn);
        var recordsEnd = SegmentLayout.RecordsEnd(segment.Length);
        var offset = SegmentLayout.RecordsStart;
        for (var lsn = firstLsn; lsn <= lastLsn; lsn++)
        {
            if (FrameCodec.TryDecode(segment[(int)offset..], recordsEnd - offset, seed, lsn, out var frame) != FrameStatus.Success)
            {
                break;
            }

            if (index.Wants(offset))
            {
                index = index.With(lsn, offset);
            }

            offset += frame.FrameLength;
        }

        return index;
    }
}
