using NATS.Client.Core;
using TruthDb.Dataflow.Replication.Nats.Publishing;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Publishing;

public sealed class AckResultTests
{
    [Fact]
    public void From_ErrorInAnAckThatNamesTheStream_IsARejection()
    {
        // The error reply also names the stream and a sequence field: the error wins over the look of success.
        var result = Parse("""{"stream":"S","seq":0,"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"}}""");
        Assert.Equal(AckKind.Rejected, result.Kind);
        Assert.Equal(10071, result.ErrorCode);
        Assert.Equal("wrong last sequence: 5", result.Description);
    }

    [Fact]
    public void From_StoredAndDuplicate_AreStored()
    {
        var stored = Parse("""{"stream":"S","seq":42}""");
        Assert.Equal((AckKind.Stored, 42UL, false), (stored.Kind, stored.Sequence, stored.Duplicate));
        var duplicate = Parse("""{"stream":"S","seq":42,"duplicate":true}""");
        Assert.Equal((AckKind.Stored, 42UL, true), (duplicate.Kind, duplicate.Sequence, duplicate.Duplicate));
    }

    [Fact]
    public void From_DuplicateWithoutSequence_IsInProcess()
    {
        // What a clustered leader answers for a message id it has proposed and not stored.
        var result = Parse("""{"stream":"S","seq":0,"duplicate":true}""");
        Assert.Equal(AckKind.InProcess, result.Kind);
        Assert.Contains("in process", result.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("""{"stream":"S"}""")]
    public void From_NoUsableAcknowledgement_IsUnknown(string reply) => Assert.Equal(AckKind.Unknown, Parse(reply).Kind);

    private static AckResult Parse(string json)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(json);
        return AckResult.From(new NatsMsg<byte[]>("_TRUTHDB_ACKS.x.1.6", null, bytes.Length, null, bytes, null));
    }
}
