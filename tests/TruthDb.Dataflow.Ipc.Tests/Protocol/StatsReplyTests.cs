using System.Buffers;
using MessagePack;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Tests.Protocol;

/// <summary>
/// StatsReply grew two fields at its end (segments, cursors): a receiver that knows the 13 fields before
/// them still decodes it, and this client decodes a reply of a server that sends only those 13.
/// </summary>
public sealed class StatsReplyTests
{
    [Fact]
    public void ReadBody_ReplyWithSegmentsAndCursorsByADecoderOfThe13Fields_DecodesTheFieldsItKnows()
    {
        var body = Encode(Reply());

        var previous = MessageCodec.ReadBody<PreviousStatsReply>(body);

        Assert.Equal((15L, 12L, 1L, "3fff7306-2de0-bf2c-aa52-c92f7733aa36"), (previous.WrittenLsn, previous.DurableLsn, previous.FirstLsn, previous.LogId));
        Assert.Equal((15L, 4L, 3L, 9000L, 0L, 2, 1, 1234L, true), (previous.Appends, previous.Batches, previous.Syncs, previous.BytesWritten, previous.PendingBytes, previous.Connections, previous.Subscriptions, previous.SyncMicroseconds, previous.ReadOnly));
    }

    [Fact]
    public void Encode_Reply_IsOneArrayOf15WithSegmentArraysOf6AndCursorArraysOf2()
    {
        var reader = new MessagePackReader(Encode(Reply()));

        Assert.Equal(15, reader.ReadArrayHeader());
        for (var i = 0; i < 13; i++)
        {
            reader.Skip();
        }

        Assert.Equal(2, reader.ReadArrayHeader());
        Assert.Equal(6, reader.ReadArrayHeader());
        Assert.Equal(("00000000000000000001.wal", 1L, 10L, 65536L, true, 1700000000000L), (reader.ReadString(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadBoolean(), reader.ReadInt64()));
        Assert.Equal(6, reader.ReadArrayHeader());
        Assert.Equal(("00000000000000000011.wal", 11L, 15L, 65536L), (reader.ReadString(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64()));
        Assert.True(reader.TryReadNil());
        Assert.True(reader.TryReadNil());
        Assert.Equal(1, reader.ReadArrayHeader());
        Assert.Equal(2, reader.ReadArrayHeader());
        Assert.Equal(("etl", 7L), (reader.ReadString(), reader.ReadInt64()));
        Assert.True(reader.End);
    }

    [Fact]
    public void Encode_OneSegmentAndOneCursor_AreTheBytesTheProtocolDocShows()
    {
        var reply = Reply();
        reply.Segments = [reply.Segments![0]];
        var body = Encode(reply);
        var reader = new MessagePackReader(body);
        Assert.Equal(15, reader.ReadArrayHeader());
        for (var i = 0; i < 13; i++)
        {
            reader.Skip();
        }

        // docs/ipc-protocol.md, section 3.2: the example segment and cursor, each in an array of one.
        byte[] expected =
        [
            0x91,
            0x96,
            0xb8, .. "00000000000000000001.wal"u8,
            0x01,
            0x0a,
            0xce, 0x00, 0x01, 0x00, 0x00,
            0xc3,
            0xcf, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
            0x91,
            0x92,
            0xa3, .. "etl"u8,
            0x07,
        ];
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(body.Slice(reader.Position).ToArray()));
        Assert.Equal(0x9f, body.FirstSpan[0]);
    }

    [Fact]
    public void Statistics_ReplyOfAServerThatSendsThe13Fields_NoSegmentsNoCursors()
    {
        var previous = MessageCodec.ReadBody<PreviousStatsReply>(Encode(Reply()));

        var statistics = new TruthDbServerStatistics(MessageCodec.ReadBody<StatsReply>(Encode(previous)));

        Assert.Equal((15L, 12L, true), (statistics.WrittenLsn, statistics.DurableLsn, statistics.ReadOnly));
        Assert.Empty(statistics.Segments);
        Assert.Empty(statistics.Cursors);
    }

    [Fact]
    public void Statistics_ReplyWithSegmentsAndCursors_AsTheServerSentThem()
    {
        var statistics = new TruthDbServerStatistics(MessageCodec.ReadBody<StatsReply>(Encode(Reply())));

        Assert.Equal(2, statistics.Segments.Count);
        var first = statistics.Segments[0];
        Assert.Equal(("00000000000000000001.wal", 1L, 10L, 10L, 65536L, (bool?)true), (first.Name, first.FirstLsn, first.LastLsn, first.Records, first.SegmentSize, first.IsSealed));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000000), first.CreatedAt);
        Assert.Equal((5L, (bool?)null, (DateTimeOffset?)null), (statistics.Segments[1].Records, statistics.Segments[1].IsSealed, statistics.Segments[1].CreatedAt));
        Assert.Equal(new Dictionary<string, long> { ["etl"] = 7 }, statistics.Cursors);
    }

    [Fact]
    public void Statistics_CreatedTimeNoDateTimeOffsetHolds_NotKnown()
    {
        var reply = Reply();
        reply.Segments![0].CreatedUnixMs = long.MaxValue;

        var statistics = new TruthDbServerStatistics(MessageCodec.ReadBody<StatsReply>(Encode(reply)));

        Assert.Null(statistics.Segments[0].CreatedAt);
    }

    private static StatsReply Reply() => new()
    {
        WrittenLsn = 15,
        DurableLsn = 12,
        FirstLsn = 1,
        LogId = "3fff7306-2de0-bf2c-aa52-c92f7733aa36",
        Appends = 15,
        Batches = 4,
        Syncs = 3,
        BytesWritten = 9000,
        PendingBytes = 0,
        Connections = 2,
        Subscriptions = 1,
        SyncMicroseconds = 1234,
        ReadOnly = true,
        Segments =
        [
            new() { Name = "00000000000000000001.wal", FirstLsn = 1, LastLsn = 10, SegmentSize = 65536, Sealed = true, CreatedUnixMs = 1700000000000 },
            new() { Name = "00000000000000000011.wal", FirstLsn = 11, LastLsn = 15, SegmentSize = 65536, Sealed = null, CreatedUnixMs = null },
        ],
        Cursors = [new() { Name = "etl", CommittedLsn = 7 }],
    };

    private static ReadOnlySequence<byte> Encode<T>(T body) => new(MessagePackSerializer.Serialize(body, MessageCodec.Options));

    /// <summary>StatsReply as it was before segments and cursors: its 13 fields, decoded the same way.</summary>
    [MessagePackObject]
    public sealed class PreviousStatsReply
    {
        [Key(0)]
        public long WrittenLsn { get; set; }

        [Key(1)]
        public long DurableLsn { get; set; }

        [Key(2)]
        public long FirstLsn { get; set; }

        [Key(3)]
        public string LogId { get; set; } = string.Empty;

        [Key(4)]
        public long Appends { get; set; }

        [Key(5)]
        public long Batches { get; set; }

        [Key(6)]
        public long Syncs { get; set; }

        [Key(7)]
        public long BytesWritten { get; set; }

        [Key(8)]
        public long PendingBytes { get; set; }

        [Key(9)]
        public int Connections { get; set; }

        [Key(10)]
        public int Subscriptions { get; set; }

        [Key(11)]
        public long SyncMicroseconds { get; set; }

        [Key(12)]
        public bool ReadOnly { get; set; }
    }
}
