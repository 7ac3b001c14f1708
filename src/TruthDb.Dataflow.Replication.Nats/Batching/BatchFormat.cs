using System.Buffers.Binary;
using System.IO.Hashing;

namespace TruthDb.Dataflow.Replication.Nats.Batching;

/// <summary>What checking a batch body found.</summary>
internal enum BatchStatus
{
    /// <summary>A well-formed body whose checksum matches.</summary>
    Valid,

    /// <summary>Shorter than a header, a count and a checksum.</summary>
    TooShort,

    /// <summary>Not a batch body: the first 4 bytes are not "TDBB".</summary>
    BadMagic,

    /// <summary>A format version this library does not know.</summary>
    UnknownVersion,

    /// <summary>The CRC-32 does not match the bytes: damaged on the way or in the stream.</summary>
    ChecksumMismatch,

    /// <summary>The first LSN is below 1, or the count is 0 or runs past the LSN range.</summary>
    BadHeader,

    /// <summary>The record lengths do not add up to the body's length.</summary>
    BadLengths,
}

/// <summary>
/// The body of a batched message, byte for byte (docs/replication.md, "The batch body"; the public
/// reader is <see cref="RecordBatch"/>). Integers are little-endian.
/// <code>
///  0  4  magic "TDBB"
///  4  2  format version: 1
///  6  2  flags: 0 (reserved; a reader refuses a version it does not know, not unknown flags)
///  8  8  first LSN (signed, at least 1)
/// 16  4  record count n (at least 1)
/// 20     n times: the payload's length (unsigned 32-bit), then the payload
/// -4  4  CRC-32 of every byte before it: the IEEE 802.3 polynomial, as zlib's crc32, Go's
///        crc32.ChecksumIEEE and Node's zlib.crc32 compute it
/// </code>
/// The checksum is CRC-32, not the log's CRC-32C, because every language's standard library has it.
/// </summary>
internal static class BatchFormat
{
    /// <summary>Bytes before the first record.</summary>
    public const int HeaderLength = 20;

    /// <summary>Bytes of a record's length prefix.</summary>
    public const int LengthPrefix = 4;

    /// <summary>Bytes of the checksum at the end.</summary>
    public const int ChecksumLength = 4;

    /// <summary>The smallest body: a header, one empty record and the checksum.</summary>
    public const int MinLength = HeaderLength + LengthPrefix + ChecksumLength;

    /// <summary>The format version this library writes and reads.</summary>
    public const ushort Version = 1;

    /// <summary>The magic at the start of every body.</summary>
    public static ReadOnlySpan<byte> Magic => "TDBB"u8;

    /// <summary>Writes the header for <paramref name="count"/> records from <paramref name="firstLsn"/>.</summary>
    public static void WriteHeader(Span<byte> destination, long firstLsn, int count)
    {
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], firstLsn);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)count);
    }

    /// <summary>Writes the checksum of <paramref name="body"/>[..^4] into its last 4 bytes.</summary>
    public static void Seal(Span<byte> body) =>
        BinaryPrimitives.WriteUInt32LittleEndian(body[^ChecksumLength..], Crc32.HashToUInt32(body[..^ChecksumLength]));

    /// <summary>Checks <paramref name="body"/> completely (structure and checksum); on <see cref="BatchStatus.Valid"/> gives its first LSN and count.</summary>
    public static BatchStatus Check(ReadOnlySpan<byte> body, out long firstLsn, out int count)
    {
        firstLsn = 0;
        count = 0;
        if (body.Length < MinLength)
        {
            return body.Length >= Magic.Length && !body.StartsWith(Magic) ? BatchStatus.BadMagic : BatchStatus.TooShort;
        }

        if (!body.StartsWith(Magic))
        {
            return BatchStatus.BadMagic;
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(body[4..]) != Version)
        {
            return BatchStatus.UnknownVersion;
        }

        if (Crc32.HashToUInt32(body[..^ChecksumLength]) != BinaryPrimitives.ReadUInt32LittleEndian(body[^ChecksumLength..]))
        {
            return BatchStatus.ChecksumMismatch;
        }

        var first = BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
        var n = BinaryPrimitives.ReadUInt32LittleEndian(body[16..]);
        if (first < 1 || n < 1 || n > (body.Length - HeaderLength - ChecksumLength) / LengthPrefix || first > long.MaxValue - n)
        {
            return BatchStatus.BadHeader;
        }

        var records = body[HeaderLength..^ChecksumLength];
        for (var i = 0u; i < n; i++)
        {
            if (records.Length < LengthPrefix)
            {
                return BatchStatus.BadLengths;
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(records);
            if (length > (uint)(records.Length - LengthPrefix))
            {
                return BatchStatus.BadLengths;
            }

            records = records[(LengthPrefix + (int)length)..];
        }

        if (!records.IsEmpty)
        {
            return BatchStatus.BadLengths;
        }

        firstLsn = first;
        count = (int)n;
        return BatchStatus.Valid;
    }

    /// <summary>Says what <paramref name="status"/> means, for an error message.</summary>
    public static string Describe(BatchStatus status) => status switch
    {
        BatchStatus.Valid => "valid",
        BatchStatus.TooShort => "too short for a batch",
        BatchStatus.BadMagic => "not a batch (no 'TDBB' magic)",
        BatchStatus.UnknownVersion => "of a batch format version this library does not read",
        BatchStatus.ChecksumMismatch => "damaged (its CRC-32 does not match)",
        BatchStatus.BadHeader => "malformed (its first LSN or record count is out of range)",
        BatchStatus.BadLengths => "malformed (its record lengths do not add up to its size)",
        _ => status.ToString(),
    };
}
