using System.Buffers;
using System.Buffers.Binary;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Validation;

/// <summary>Checks of frames that are read from a file rather than held in a buffer.</summary>
internal static class StoredFrame
{
    private const int PieceSize = 256 * 1024;

    /// <summary>
    /// Verifies the frame at <paramref name="offset"/>, whose header is <paramref name="header"/>, by reading
    /// its payload in pieces: checksum and zero padding, without ever holding the whole frame in memory.
    /// </summary>
    public static bool IsValid(IStorageFile file, uint seed, long offset, ReadOnlySpan<byte> header, long frameLength)
    {
        var stored = FrameCodec.StoredChecksum(header);
        var payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var crc = FrameCodec.BeginChecksum(seed, header);
        var piece = ArrayPool<byte>.Shared.Rent((int)Math.Min(PieceSize, Math.Max(frameLength, 8)));
        try
        {
            var position = offset + FrameCodec.HeaderLength;
            var remaining = frameLength - FrameCodec.HeaderLength;
            var payloadLeft = (long)payloadLength;
            while (remaining > 0)
            {
                var n = file.ReadFully(position, piece.AsSpan(0, (int)Math.Min(piece.Length, remaining)));
                if (n == 0)
                {
                    return false;
                }

                var payloadPart = (int)Math.Min(n, payloadLeft);
                crc = Crc32C.Append(crc, piece.AsSpan(0, payloadPart));
                if (piece.AsSpan(payloadPart, n - payloadPart).ContainsAnyExcept((byte)0))
                {
                    return false;
                }

                payloadLeft -= payloadPart;
                position += n;
                remaining -= n;
            }

            return Crc32C.Finish(crc) == stored;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(piece);
        }
    }
}
