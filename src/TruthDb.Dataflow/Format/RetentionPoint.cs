using System.Buffers.Binary;

namespace TruthDb.Dataflow.Format;

/// <summary>
/// The <c>retention.lsn</c> file: the first LSN retention keeps. Written (atomically) before any
/// segment is deleted, so recovery can tell the leftovers of an interrupted retention (segments
/// that end below it: deleted again) from a missing segment (corruption).
/// <code>
///  0  8  magic "TDBRET\r\n"
///  8  8  first retained LSN
/// 16  4  CRC-32C of bytes 0..15
/// </code>
/// </summary>
internal static class RetentionPoint
{
    /// <summary>The file name.</summary>
    public const string FileName = "retention.lsn";

    /// <summary>Bytes in the file.</summary>
    public const int Length = 20;

    private static ReadOnlySpan<byte> Magic => "TDBRET\r\n"u8;

    /// <summary>The file's bytes for <paramref name="firstRetainedLsn"/>.</summary>
    public static byte[] Encode(long firstRetainedLsn)
    {
        var bytes = new byte[Length];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), firstRetainedLsn);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), Crc32C.Compute(bytes.AsSpan(0, 16)));
        return bytes;
    }

    /// <summary>Parses the file; false when it is damaged.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out long firstRetainedLsn)
    {
        firstRetainedLsn = 0;
        if (bytes.Length != Length || !bytes[..8].SequenceEqual(Magic)
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]) != Crc32C.Compute(bytes[..16]))
        {
            return false;
        }

        firstRetainedLsn = BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
        return firstRetainedLsn > 0;
    }
}
