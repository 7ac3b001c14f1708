using System.Buffers.Binary;

namespace TruthDb.Dataflow.Format;

/// <summary>
/// The <c>truthdb.clean</c> file: written (atomically) by a clean close after the final sync, saying
/// where the records of the last segment end. The next open reads it, deletes it durably before it
/// writes anything, and when it matches what it finds, skips scanning the rest of the segment for a
/// torn tail (there can be none: nothing was written after the last sync). A crash leaves no such
/// file, so recovery then scans as usual.
/// <code>
///  0  8  magic "TDBCLN\r\n"
///  8  8  first LSN of the last segment
/// 16  8  last LSN
/// 24  8  offset where the last segment's records end
/// 32  4  CRC-32C of bytes 0..31
/// </code>
/// </summary>
internal static class CleanClose
{
    /// <summary>The file name.</summary>
    public const string FileName = "truthdb.clean";

    private const int Length = 36;

    private static ReadOnlySpan<byte> Magic => "TDBCLN\r\n"u8;

    /// <summary>The file's bytes.</summary>
    public static byte[] Encode(long segmentFirstLsn, long lastLsn, long recordsEnd)
    {
        var bytes = new byte[Length];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), segmentFirstLsn);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(16), lastLsn);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(24), recordsEnd);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(32), Crc32C.Compute(bytes.AsSpan(0, 32)));
        return bytes;
    }

    /// <summary>Parses the file; null when it is absent or damaged (then recovery scans as after a crash).</summary>
    public static (long SegmentFirstLsn, long LastLsn, long RecordsEnd)? TryDecode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length || !bytes[..8].SequenceEqual(Magic)
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes[32..]) != Crc32C.Compute(bytes[..32]))
        {
            return null;
        }

        return (BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]), BinaryPrimitives.ReadInt64LittleEndian(bytes[16..]), BinaryPrimitives.ReadInt64LittleEndian(bytes[24..]));
    }
}
