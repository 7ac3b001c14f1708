using System.Buffers.Binary;
using System.Numerics;

namespace TruthDb.Dataflow.Format;

/// <summary>
/// CRC-32C (Castagnoli) on top of <see cref="BitOperations.Crc32C(uint, ulong)"/>, which uses the
/// SSE4.2 / ARMv8 CRC instructions when the processor has them and a table otherwise.
/// The state is the raw register: start from <see cref="Initial"/>, <see cref="Append(uint, ReadOnlySpan{byte})"/> data,
/// and <see cref="Finish"/> to get the checksum that is stored.
/// </summary>
internal static class Crc32C
{
    /// <summary>The register value before any data.</summary>
    public const uint Initial = 0xFFFF_FFFF;

    /// <summary>Feeds <paramref name="data"/> into the register.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }

    /// <summary>Feeds a little-endian 64-bit value into the register.</summary>
    public static uint Append(uint crc, ulong value) => BitOperations.Crc32C(crc, value);

    /// <summary>Feeds a little-endian 32-bit value into the register.</summary>
    public static uint Append(uint crc, uint value) => BitOperations.Crc32C(crc, value);

    /// <summary>The checksum as stored.</summary>
    public static uint Finish(uint crc) => ~crc;

    /// <summary>The checksum of <paramref name="data"/> alone.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Initial, data));
}
