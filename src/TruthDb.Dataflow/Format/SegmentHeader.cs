using System.Buffers.Binary;

namespace TruthDb.Dataflow.Format;

/// <summary>
/// The header at offset 0 of every segment (see docs/format.md). 64 meaningful bytes, little-endian,
/// in a reserved region of <see cref="RegionSize"/> bytes so records start page-aligned:
/// <code>
///  0  8  magic "TDBWAL\r\n"
///  8  4  format version (1)
/// 12  4  header length (64)
/// 16 16  log id
/// 32  8  first LSN
/// 40  8  segment size in bytes
/// 48  8  creation time, Unix milliseconds (informational)
/// 56  4  reserved, zero
/// 60  4  CRC-32C of bytes 0..59
/// </code>
/// </summary>
internal readonly record struct SegmentHeader(LogId LogId, long FirstLsn, long SegmentSize, long CreatedUnixMs)
{
    /// <summary>Bytes reserved for the header; the first frame starts here.</summary>
    public const int RegionSize = 4096;

    /// <summary>Meaningful header bytes.</summary>
    public const int Length = 64;

    /// <summary>The format version this code writes and reads.</summary>
    public const uint FormatVersion = 1;

    private const int ChecksumOffset = 60;

    /// <summary>The magic: "TDBWAL\r\n" (the CR LF catches text-mode transfers).</summary>
    public static ReadOnlySpan<byte> Magic => "TDBWAL\r\n"u8;

    /// <summary>Writes the 64 header bytes.</summary>
    public void Write(Span<byte> destination)
    {
        var d = destination[..Length];
        d.Clear();
        Magic.CopyTo(d);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], Length);
        LogId.Write(d[16..]);
        BinaryPrimitives.WriteInt64LittleEndian(d[32..], FirstLsn);
        BinaryPrimitives.WriteInt64LittleEndian(d[40..], SegmentSize);
        BinaryPrimitives.WriteInt64LittleEndian(d[48..], CreatedUnixMs);
        BinaryPrimitives.WriteUInt32LittleEndian(d[ChecksumOffset..], Crc32C.Compute(d[..ChecksumOffset]));
    }

    /// <summary>Parses and validates a header; on failure <paramref name="problem"/> says what is wrong.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out SegmentHeader header, out string problem)
    {
        header = default;
        if (source.Length < Length)
        {
            problem = $"the file is {source.Length} bytes long, shorter than a segment header ({Length} bytes)";
            return false;
        }

        if (!source[..8].SequenceEqual(Magic))
        {
            problem = "the segment header's magic is wrong (not a TruthDb.Dataflow segment, or damaged)";
            return false;
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(source[8..]);
        if (version != FormatVersion)
        {
            problem = $"the segment format version is {version}; this build reads version {FormatVersion} (or the header is damaged)";
            return false;
        }

        var stored = BinaryPrimitives.ReadUInt32LittleEndian(source[ChecksumOffset..]);
        if (stored != Crc32C.Compute(source[..ChecksumOffset]))
        {
            problem = "the segment header's checksum does not match (damaged header)";
            return false;
        }

        header = new SegmentHeader(
            LogId.Read(source[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[32..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[40..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[48..]));
        problem = string.Empty;
        return true;
    }

    /// <summary>A creation time field as a time; null when it is outside what a <see cref="DateTimeOffset"/> holds (a damaged or foreign value).</summary>
    public static DateTimeOffset? TimeOf(long createdUnixMs) =>
        createdUnixMs is >= 0 and <= 253402300799999 ? DateTimeOffset.FromUnixTimeMilliseconds(createdUnixMs) : null;
}
