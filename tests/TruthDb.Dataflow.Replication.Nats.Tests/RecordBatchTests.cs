using System.Buffers.Binary;
using System.Text;
using CsCheck;
using TruthDb.Dataflow.Replication.Nats.Batching;

namespace TruthDb.Dataflow.Replication.Nats.Tests;

/// <summary>The batch body, byte for byte as docs/replication.md describes it, and its decoder.</summary>
public sealed class RecordBatchTests
{
    [Fact]
    public void Decode_BodyWrittenByHandFromTheDocumentedLayout_GivesTheRecords()
    {
        // "TDBB", version 1, flags 0, first LSN 41, 3 records: "a", "", "xyz", CRC-32 (zlib's) of it all.
        var body = new List<byte>();
        body.AddRange("TDBB"u8.ToArray());
        body.AddRange(BitConverter.GetBytes((ushort)1));
        body.AddRange(BitConverter.GetBytes((ushort)0));
        body.AddRange(BitConverter.GetBytes(41L));
        body.AddRange(BitConverter.GetBytes(3u));
        foreach (var payload in new[] { "a", string.Empty, "xyz" })
        {
            body.AddRange(BitConverter.GetBytes((uint)payload.Length));
            body.AddRange(Encoding.ASCII.GetBytes(payload));
        }

        body.AddRange(BitConverter.GetBytes(Crc32Ieee(body.ToArray())));

        var batch = RecordBatch.Decode(body.ToArray());

        Assert.Equal((41L, 43L, 3), (batch.FirstLsn, batch.LastLsn, batch.Count));
        var records = new List<(long, string)>();
        foreach (var record in batch)
        {
            records.Add((record.Lsn, Encoding.ASCII.GetString(record.Payload.Span)));
        }

        Assert.Equal([(41L, "a"), (42L, string.Empty), (43L, "xyz")], records);
    }

    [Fact]
    public void Crc32_TheCheckValue_IsZlibsCrc32()
    {
        // The standard check value of CRC-32/ISO-HDLC (zlib.crc32, Go's crc32.ChecksumIEEE): other languages compute the same.
        Assert.Equal(0xCBF43926u, System.IO.Hashing.Crc32.HashToUInt32("123456789"u8));
        Assert.Equal(0xCBF43926u, Crc32Ieee("123456789"u8.ToArray()));
    }

    [Theory]
    [InlineData(0, "not a batch (no 'TDBB' magic)")]
    [InlineData(25, "damaged (its CRC-32 does not match)")]
    [InlineData(-1, "damaged (its CRC-32 does not match)")]
    public void Decode_OneBitFlipped_ThrowsSayingWhatIsWrong(int offset, string words)
    {
        var body = Build(7, "one", "two").ToArray();
        body[offset < 0 ? body.Length + offset : offset] ^= 0x10;
        var error = Assert.Throws<InvalidDataException>(() => RecordBatch.Decode(body));
        Assert.Contains(words, error.Message, StringComparison.Ordinal);
        Assert.False(RecordBatch.TryDecode(body, out _));
    }

    [Fact]
    public void Decode_MalformedButChecksummedBodies_ThrowNamingWhatIsWrong()
    {
        Assert.Contains("too short", Assert.Throws<InvalidDataException>(() => RecordBatch.Decode("TDBB"u8.ToArray())).Message, StringComparison.Ordinal);
        Assert.Contains("format version", Assert.Throws<InvalidDataException>(() => RecordBatch.Decode(Resealed(Build(1, "x"), b => b[4] = 2))).Message, StringComparison.Ordinal);
        Assert.Contains("first LSN or record count", Assert.Throws<InvalidDataException>(() => RecordBatch.Decode(Resealed(Build(1, "x"), b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(8), 0)))).Message, StringComparison.Ordinal);
        Assert.Contains("record lengths", Assert.Throws<InvalidDataException>(() => RecordBatch.Decode(Resealed(Build(1, "x", "y"), b => b[20] = 2))).Message, StringComparison.Ordinal);
        Assert.Contains("record lengths", Assert.Throws<InvalidDataException>(() => RecordBatch.Decode(Resealed(Build(1, "x", "y"), b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), 1)))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_AnyRecordsTheBuilderPacked_GivesThemBackInOrder()
    {
        Gen.Long[1, long.MaxValue / 2].Select(Gen.Byte.Array[0, 300].Array[1, 40])
            .Sample((first, payloads) =>
            {
                var builder = new MessageBuilder(NatsMessageFormat.Batch, int.MaxValue, int.MaxValue);
                for (var i = 0; i < payloads.Length; i++)
                {
                    builder.Add(new WalRecord(first + i, payloads[i]));
                }

                var batch = RecordBatch.Decode(builder.Finish().ToArray());
                var lsn = first;
                foreach (var record in batch)
                {
                    Assert.Equal(lsn, record.Lsn);
                    Assert.Equal(payloads[lsn - first], record.Payload.ToArray());
                    lsn++;
                }

                Assert.Equal(first + payloads.Length, lsn);
            });
    }

    private static ReadOnlyMemory<byte> Build(long first, params string[] payloads)
    {
        var builder = new MessageBuilder(NatsMessageFormat.Batch, int.MaxValue, int.MaxValue);
        for (var i = 0; i < payloads.Length; i++)
        {
            builder.Add(new WalRecord(first + i, Encoding.ASCII.GetBytes(payloads[i])));
        }

        return builder.Finish().ToArray();
    }

    // Changes a body and writes a correct checksum again, so the decoder must find the change by structure.
    private static byte[] Resealed(ReadOnlyMemory<byte> body, Action<byte[]> change)
    {
        var bytes = body.ToArray();
        change(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32Ieee(bytes.AsSpan(0, bytes.Length - 4).ToArray()));
        return bytes;
    }

    // A plain bitwise CRC-32 (reflected, polynomial 0xEDB88320), as a reader in any language writes it.
    private static uint Crc32Ieee(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
