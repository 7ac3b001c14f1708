using TruthDb.Dataflow.Replication.Nats.Batching;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Batching;

public sealed class MessageBuilderTests
{
    [Fact]
    public void Fits_AtMaxRecords_IsFullAndTakesNoMore()
    {
        var builder = new MessageBuilder(NatsMessageFormat.Batch, 3, 1 << 20);
        for (var lsn = 1; lsn <= 3; lsn++)
        {
            Assert.True(builder.Fits(10));
            builder.Add(new WalRecord(lsn, new byte[10]));
        }

        Assert.True(builder.IsFull);
        Assert.False(builder.Fits(0));
        Assert.Equal((1L, 3L, 3, 30L), (builder.FirstLsn, builder.LastLsn, builder.Count, builder.PayloadBytes));
    }

    [Fact]
    public void Fits_AtMaxBytes_CountsHeaderLengthsAndChecksum()
    {
        // 20 header + 2 x (4 + 100) + 4 checksum = 232 bytes.
        var builder = new MessageBuilder(NatsMessageFormat.Batch, 100, 232);
        builder.Add(new WalRecord(5, new byte[100]));
        Assert.True(builder.Fits(100));
        Assert.False(builder.Fits(101));
        builder.Add(new WalRecord(6, new byte[100]));
        Assert.Equal(232, builder.Finish().Length);
    }

    [Fact]
    public void Fits_RecordLargerThanMaxBytes_GoesAloneInItsOwnBatch()
    {
        var builder = new MessageBuilder(NatsMessageFormat.Batch, 100, 1024);
        Assert.True(builder.Fits(5000));
        builder.Add(new WalRecord(9, new byte[5000]));
        Assert.False(builder.Fits(1));
        var batch = RecordBatch.Decode(builder.Finish());
        Assert.Equal((9L, 1), (batch.FirstLsn, batch.Count));
        Assert.Equal(5000 + 28, builder.SizeAlone(5000));
    }

    [Fact]
    public void Add_LsnThatDoesNotFollow_Throws()
    {
        var builder = new MessageBuilder(NatsMessageFormat.Batch, 100, 1024);
        builder.Add(new WalRecord(9, new byte[1]));
        Assert.Throws<InvalidOperationException>(() => builder.Add(new WalRecord(11, new byte[1])));
    }

    [Fact]
    public void Finish_RecordFormat_IsThePayloadAloneAndOneRecordFillsIt()
    {
        var builder = new MessageBuilder(NatsMessageFormat.Record, 100, 1024);
        builder.Add(new WalRecord(3, "abc"u8.ToArray()));
        Assert.True(builder.IsFull);
        Assert.Equal("abc"u8.ToArray(), builder.Finish().ToArray());
        builder.Clear();
        builder.Add(new WalRecord(4, "de"u8.ToArray()));
        Assert.Equal("de"u8.ToArray(), builder.Finish().ToArray());
        Assert.Equal(2, builder.SizeAlone(2));
    }
}
