using System.Text;
using CsCheck;
using TruthDb.Dataflow.Format;

namespace TruthDb.Dataflow.Tests.Format;

public sealed class FormatTests
{
    [Fact]
    public void Crc32C_StandardCheckValue_Matches()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Crc32C_WordAppends_EqualByteAppends()
    {
        Gen.Select(Gen.UInt, Gen.ULong).Sample((seed, value) =>
        {
            var bytes = BitConverter.GetBytes(value);
            return Crc32C.Append(seed, value) == Crc32C.Append(seed, bytes.AsSpan())
                && Crc32C.Append(seed, (uint)value) == Crc32C.Append(seed, bytes.AsSpan(0, 4));
        });
    }

    [Fact]
    public void Frame_EncodeThenDecode_RoundTrips()
    {
        Gen.Select(Gen.Byte.Array[0, 3000], Gen.Long[1, long.MaxValue / 2], Gen.UInt).Sample((payload, lsn, seed) =>
        {
            var buffer = new byte[FrameCodec.FrameLength(payload.Length) + 16];
            var synced = lsn - 1;
            var length = FrameCodec.Encode(buffer, seed, lsn, synced, payload);
            var status = FrameCodec.TryDecode(buffer.AsSpan(0, length), length, seed, lsn, out var frame);
            return status == FrameStatus.Success
                && length % FrameCodec.Alignment == 0
                && frame.Lsn == lsn && frame.SyncedLsn == synced && frame.FrameLength == length
                && buffer.AsSpan(frame.PayloadOffset, frame.PayloadLength).SequenceEqual(payload);
        });
    }

    [Fact]
    public void Frame_AnySingleBitFlip_IsRejected()
    {
        Gen.Select(Gen.Byte.Array[1, 300], Gen.Int[0, int.MaxValue]).Sample((payload, pick) =>
        {
            var buffer = new byte[FrameCodec.FrameLength(payload.Length)];
            var length = FrameCodec.Encode(buffer, 1234, 7, 6, payload);
            var bit = pick % (length * 8);
            buffer[bit / 8] ^= (byte)(1 << (bit % 8));
            var status = FrameCodec.TryDecode(buffer, length, 1234, 7, out _);
            return status != FrameStatus.Success;
        });
    }

    [Fact]
    public void Frame_FromAnotherLog_IsRejected()
    {
        var payload = "payload"u8.ToArray();
        var buffer = new byte[FrameCodec.FrameLength(payload.Length)];
        var mine = LogId.NewId();
        var other = LogId.NewId();
        var length = FrameCodec.Encode(buffer, other.Seed, 1, 0, payload);

        Assert.Equal(FrameStatus.ChecksumMismatch, FrameCodec.TryDecode(buffer, length, mine.Seed, 1, out _));
        Assert.Equal(FrameStatus.Success, FrameCodec.TryDecode(buffer, length, other.Seed, 1, out _));
    }

    [Fact]
    public void Frame_WrongLsn_IsOutOfSequence()
    {
        var buffer = new byte[64];
        var length = FrameCodec.Encode(buffer, 99, 5, 4, "abc"u8);
        Assert.Equal(FrameStatus.OutOfSequence, FrameCodec.TryDecode(buffer, length, 99, 6, out _));
    }

    [Fact]
    public void Frame_GarbageLength_IsTruncatedWithoutReading()
    {
        var buffer = new byte[FrameCodec.HeaderLength];
        buffer.AsSpan().Fill(0xEE);
        Assert.Equal(FrameStatus.Truncated, FrameCodec.TryDecode(buffer, 4096, 1, 1, out _));
    }

    [Fact]
    public void Frame_ArbitraryBytes_NeverThrowAndNeverSucceed()
    {
        Gen.Select(Gen.Byte.Array[0, 200], Gen.Long[0, 1 << 20]).Sample((bytes, remaining) =>
        {
            var status = FrameCodec.TryDecode(bytes, remaining, 42, 1, out _);
            return status != FrameStatus.Success;
        });
    }

    [Fact]
    public void Trailer_EncodeThenDecode_RoundTrips()
    {
        var buffer = new byte[FrameCodec.TrailerLength];
        FrameCodec.EncodeTrailer(buffer, 77, 1234, 8192);
        Assert.True(FrameCodec.TryDecodeTrailer(buffer, 77, out var last, out var end));
        Assert.Equal(1234, last);
        Assert.Equal(8192, end);
        buffer[10] ^= 1;
        Assert.False(FrameCodec.TryDecodeTrailer(buffer, 77, out _, out _));
    }

    [Fact]
    public void SegmentHeader_WriteThenRead_RoundTrips()
    {
        var header = new SegmentHeader(LogId.NewId(), 1001, 65536, 1_700_000_000_000);
        var bytes = new byte[SegmentHeader.Length];
        header.Write(bytes);

        Assert.True(SegmentHeader.TryRead(bytes, out var read, out var problem), problem);
        Assert.Equal(header, read);
    }

    [Fact]
    public void SegmentHeader_AnyBitFlip_IsReportedWithAReason()
    {
        var header = new SegmentHeader(LogId.NewId(), 1, 65536, 0);
        for (var bit = 0; bit < SegmentHeader.Length * 8; bit++)
        {
            var bytes = new byte[SegmentHeader.Length];
            header.Write(bytes);
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(SegmentHeader.TryRead(bytes, out _, out var problem));
            Assert.NotEmpty(problem);
        }
    }

    [Theory]
    [InlineData("00000000000000000001.wal", true, 1L)]
    [InlineData("00000000000000123456.wal", true, 123456L)]
    [InlineData("0000000000000000001.wal", false, 0L)]
    [InlineData("00000000000000000000.wal", false, 0L)]
    [InlineData("0000000000000000000a.wal", false, 0L)]
    [InlineData("00000000000000000001.tmp", false, 0L)]
    public void SegmentNames_Parse_AcceptsOnlySegmentNames(string name, bool valid, long lsn)
    {
        Assert.Equal(valid, SegmentNames.TryParseSegment(name, out var parsed));
        Assert.Equal(lsn, parsed);
        if (valid)
        {
            Assert.Equal(name, SegmentNames.ForSegment(lsn));
        }
    }
}
