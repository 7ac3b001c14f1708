using System.Buffers.Binary;

namespace TruthDb.Dataflow.Format;

/// <summary>What <see cref="FrameCodec.TryDecode"/> found at a position.</summary>
internal enum FrameStatus
{
    /// <summary>A valid record frame with the expected LSN.</summary>
    Success,

    /// <summary>The frame extends past the bytes given; read more (up to the segment end) and retry.</summary>
    NeedMoreData,

    /// <summary>The frame would extend past the end of the segment's record area: a cut-off or garbage length.</summary>
    Truncated,

    /// <summary>The checksum (or the zero padding) does not match: zeros, garbage or a torn write.</summary>
    ChecksumMismatch,

    /// <summary>A frame of this log whose LSN is not the expected next one.</summary>
    OutOfSequence,
}

/// <summary>A decoded record frame: where its payload is inside the span that was decoded.</summary>
internal readonly record struct DecodedFrame(long Lsn, long SyncedLsn, int PayloadOffset, int PayloadLength, int FrameLength);

/// <summary>
/// Record frames and seal trailers (see docs/format.md). A frame starts at an 8-byte-aligned offset,
/// so its length word never straddles a sector and cannot tear:
/// <code>
///  0  4  payload length L (0 ≤ L &lt; 0xFFFFFFFF; 0xFFFFFFFF is the seal trailer's marker)
///  4  4  CRC-32C over: log id, bytes 0..3, bytes 8..23, payload
///  8  8  LSN
/// 16  8  synced LSN: every LSN ≤ this was durable (fdatasync returned) before this frame was written
/// 24  L  payload
///     P  zero padding to the next multiple of 8 (must be zero)
/// </code>
/// A seal trailer is 24 bytes at the fixed position <c>segmentSize - 24</c>: marker, CRC-32C (log id,
/// bytes 0..3, 8..23), last LSN of the segment, and the offset where its records end. Frames never
/// reach into it. Decoding never throws and never allocates.
/// </summary>
internal static class FrameCodec
{
    /// <summary>Bytes before the payload.</summary>
    public const int HeaderLength = 24;

    /// <summary>Bytes of a seal trailer.</summary>
    public const int TrailerLength = 24;

    /// <summary>Frames start at multiples of this.</summary>
    public const int Alignment = 8;

    /// <summary>The length word of a seal trailer.</summary>
    public const uint SealMarker = 0xFFFF_FFFF;

    /// <summary>The total bytes a frame with <paramref name="payloadLength"/> takes, padding included.</summary>
    public static long FrameLength(long payloadLength) => (HeaderLength + payloadLength + Alignment - 1) & ~(long)(Alignment - 1);

    /// <summary>Encodes a record frame (with its zero padding) at the start of <paramref name="destination"/>; returns its length.</summary>
    public static int Encode(Span<byte> destination, uint seed, long lsn, long syncedLsn, ReadOnlySpan<byte> payload)
    {
        var length = (int)FrameLength(payload.Length);
        var frame = destination[..length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
        BinaryPrimitives.WriteInt64LittleEndian(frame[8..], lsn);
        BinaryPrimitives.WriteInt64LittleEndian(frame[16..], syncedLsn);
        payload.CopyTo(frame[HeaderLength..]);
        frame[(HeaderLength + payload.Length)..].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], Checksum(seed, frame, payload.Length));
        return length;
    }

    /// <summary>Encodes a seal trailer at the start of <paramref name="destination"/>.</summary>
    public static void EncodeTrailer(Span<byte> destination, uint seed, long lastLsn, long recordsEnd)
    {
        var t = destination[..TrailerLength];
        BinaryPrimitives.WriteUInt32LittleEndian(t, SealMarker);
        BinaryPrimitives.WriteInt64LittleEndian(t[8..], lastLsn);
        BinaryPrimitives.WriteInt64LittleEndian(t[16..], recordsEnd);
        BinaryPrimitives.WriteUInt32LittleEndian(t[4..], Checksum(seed, t, 0));
    }

    /// <summary>Decodes a seal trailer; false when it is absent or damaged.</summary>
    public static bool TryDecodeTrailer(ReadOnlySpan<byte> data, uint seed, out long lastLsn, out long recordsEnd)
    {
        lastLsn = 0;
        recordsEnd = 0;
        if (data.Length < TrailerLength || BinaryPrimitives.ReadUInt32LittleEndian(data) != SealMarker
            || BinaryPrimitives.ReadUInt32LittleEndian(data[4..]) != Checksum(seed, data, 0))
        {
            return false;
        }

        lastLsn = BinaryPrimitives.ReadInt64LittleEndian(data[8..]);
        recordsEnd = BinaryPrimitives.ReadInt64LittleEndian(data[16..]);
        return true;
    }

    /// <summary>
    /// Reads a frame header without checking its checksum: for scanning past damage. False when the
    /// length word is a seal marker or the frame would not fit in <paramref name="remainingInSegment"/>.
    /// </summary>
    public static bool TryPeekHeader(ReadOnlySpan<byte> data, long remainingInSegment, out long lsn, out long syncedLsn, out long frameLength)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(data);
        lsn = BinaryPrimitives.ReadInt64LittleEndian(data[8..]);
        syncedLsn = BinaryPrimitives.ReadInt64LittleEndian(data[16..]);
        frameLength = FrameLength(length);
        return length != SealMarker && frameLength <= remainingInSegment;
    }

    /// <summary>Starts the checksum of a frame whose header is <paramref name="header"/>; continue with the payload.</summary>
    public static uint BeginChecksum(uint seed, ReadOnlySpan<byte> header)
    {
        var crc = Crc32C.Append(seed, BinaryPrimitives.ReadUInt32LittleEndian(header));
        crc = Crc32C.Append(crc, BinaryPrimitives.ReadUInt64LittleEndian(header[8..]));
        return Crc32C.Append(crc, BinaryPrimitives.ReadUInt64LittleEndian(header[16..]));
    }

    /// <summary>The checksum stored in a frame header.</summary>
    public static uint StoredChecksum(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);

    /// <summary>
    /// Decodes the frame at the start of <paramref name="data"/>. <paramref name="remainingInSegment"/> is the
    /// number of bytes from this position to the end of the segment file, so a garbage length is classified
    /// (<see cref="FrameStatus.Truncated"/>) without reading or allocating anything.
    /// </summary>
    public static FrameStatus TryDecode(ReadOnlySpan<byte> data, long remainingInSegment, uint seed, long expectedLsn, out DecodedFrame frame)
    {
        frame = default;
        if (remainingInSegment < HeaderLength)
        {
            return FrameStatus.Truncated;
        }

        if (data.Length < HeaderLength)
        {
            return FrameStatus.NeedMoreData;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(data);
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        var lsn = BinaryPrimitives.ReadInt64LittleEndian(data[8..]);
        var synced = BinaryPrimitives.ReadInt64LittleEndian(data[16..]);
        if (length == SealMarker)
        {
            return FrameStatus.ChecksumMismatch;
        }

        var frameLength = FrameLength(length);
        if (frameLength > remainingInSegment)
        {
            return FrameStatus.Truncated;
        }

        if (frameLength > data.Length)
        {
            return FrameStatus.NeedMoreData;
        }

        var payloadLength = (int)length;
        if (stored != Checksum(seed, data, payloadLength) || data[(HeaderLength + payloadLength)..(int)frameLength].ContainsAnyExcept((byte)0))
        {
            return FrameStatus.ChecksumMismatch;
        }

        frame = new DecodedFrame(lsn, synced, HeaderLength, payloadLength, (int)frameLength);
        return lsn == expectedLsn ? FrameStatus.Success : FrameStatus.OutOfSequence;
    }

    private static uint Checksum(uint seed, ReadOnlySpan<byte> frame, int payloadLength) =>
        Crc32C.Finish(Crc32C.Append(BeginChecksum(seed, frame), frame.Slice(HeaderLength, payloadLength)));
}
