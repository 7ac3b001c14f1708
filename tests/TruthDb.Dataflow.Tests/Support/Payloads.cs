using System.Buffers.Binary;

namespace TruthDb.Dataflow.Tests.Support;

/// <summary>Deterministic, self-describing payloads: any record can be checked byte for byte.</summary>
internal static class Payloads
{
    /// <summary>A payload of <paramref name="length"/> bytes (at least 12) for producer <paramref name="producer"/>, sequence <paramref name="sequence"/>.</summary>
    public static byte[] Make(int producer, int sequence, int length)
    {
        var bytes = new byte[Math.Max(length, 12)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, producer);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), sequence);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), bytes.Length);
        var state = (uint)(producer * 7919 + sequence * 104729 + 1);
        for (var i = 12; i < bytes.Length; i++)
        {
            state = state * 1664525 + 1013904223;
            bytes[i] = (byte)(state >> 24);
        }

        return bytes;
    }

    /// <summary>True when <paramref name="payload"/> is exactly what <see cref="Make"/> produced for its header.</summary>
    public static bool IsIntact(ReadOnlySpan<byte> payload, out int producer, out int sequence)
    {
        producer = sequence = -1;
        if (payload.Length < 12)
        {
            return false;
        }

        producer = BinaryPrimitives.ReadInt32LittleEndian(payload);
        sequence = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        var length = BinaryPrimitives.ReadInt32LittleEndian(payload[8..]);
        return length == payload.Length && payload.SequenceEqual(Make(producer, sequence, length));
    }
}
