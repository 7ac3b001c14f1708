using System.Buffers.Binary;

namespace TruthDb.Dataflow.Format;

/// <summary>
/// The layout of the engine's small sidecar files (retention point, cursors, clean-close note):
/// an 8-byte magic, little-endian 64-bit fields, and a CRC-32C of everything before it.
/// </summary>
internal static class ChecksummedFields
{
    /// <summary>The file's bytes: <paramref name="magic"/>, then <paramref name="values"/>, then the checksum.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> magic, ReadOnlySpan<long> values)
    {
        var bytes = new byte[8 + (8 * values.Length) + 4];
        magic[..8].CopyTo(bytes);
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8 + (8 * i)), values[i]);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
        return bytes;
    }

    /// <summary>Reads <paramref name="values"/>; false when the size, the magic or the checksum is wrong.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> magic, Span<long> values)
    {
        if (bytes.Length != 8 + (8 * values.Length) + 4 || !bytes[..8].SequenceEqual(magic[..8])
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]) != Crc32C.Compute(bytes[..^4]))
        {
            return false;
        }

        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 + (8 * i))..]);
        }

        return true;
    }
}
