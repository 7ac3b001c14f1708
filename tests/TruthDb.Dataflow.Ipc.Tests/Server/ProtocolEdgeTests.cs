using System.Text;
using MessagePack;
using TruthDb.Dataflow.Ipc.Protocol;
using TruthDb.Dataflow.Ipc.Tests.Support;

namespace TruthDb.Dataflow.Ipc.Tests.Server;

/// <summary>
/// The edges of the protocol as docs/ipc-protocol.md states them: what is refused, with which error,
/// and that the connection goes on where the page says it does.
/// </summary>
public sealed class ProtocolEdgeTests : IAsyncLifetime
{
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x93 })]
    [InlineData(new byte[] { 0x93, 0x02 })]
    [InlineData(new byte[] { 0x93, 0x02, 0xce, 0x00 })]
    public async Task EmptyOrTruncatedEnvelope_BadRequestWithIdZeroAndConnectionGoesOn(byte[] message)
    {
        await using var raw = await HelloAsync();
        await raw.WriteMessageAsync(message);
        var reply = await raw.ReadReplyAsync();
        Assert.Equal((MessageType.Error, 0u, TruthDbErrorCode.BadRequest), (reply!.Type, reply.Id, reply.Code));
        await AssertPingAnsweredAsync(raw, 9);
    }

    [Fact]
    public async Task AppendWithStringPayload_BadRequestAndNothingStored()
    {
        await using var raw = await HelloAsync();
        await raw.WriteMessageAsync((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write((int)MessageType.Append);
            w.Write(5);
            w.WriteArrayHeader(2);
            w.WriteArrayHeader(2);
            w.Write(new byte[] { 1, 2, 3 });
            w.Write("text, not bin");
            w.Write(true);
        });
        var reply = await raw.ReadReplyAsync();
        Assert.Equal((5u, TruthDbErrorCode.BadRequest), (reply!.Id, reply.Code));
        Assert.Contains("bin", reply.Message, StringComparison.Ordinal);
        Assert.Equal(0, _server.Wal.WrittenLsn);
        await AssertPingAnsweredAsync(raw, 6);
        await _server.StopAndVerifyAsync();
    }

    [Fact]
    public async Task RequestWithIdZero_BadRequestAndNothingDone()
    {
        await using var raw = await HelloAsync();
        await raw.SendAsync(MessageType.Append, 0, new AppendRequest { Payloads = [new byte[] { 1 }] });
        var reply = await raw.ReadReplyAsync();
        Assert.Equal((MessageType.Error, 0u, TruthDbErrorCode.BadRequest), (reply!.Type, reply.Id, reply.Code));
        await AssertPingAnsweredAsync(raw, 7);
        Assert.Equal(0, _server.Wal.WrittenLsn);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SubscribeBeyondTheNextLsn_OutOfRange_AtTheNextLsnSubscribed(bool follow)
    {
        var type = follow ? MessageType.Tail : MessageType.Read;
        await AppendAsync(3);
        await using var raw = await HelloAsync();
        await raw.SendAsync(type, 2, new SubscribeRequest { FromLsn = 5, Credit = 1 });
        var refused = await raw.ReadReplyAsync();
        Assert.Equal((2u, TruthDbErrorCode.OutOfRange), (refused!.Id, refused.Code));
        Assert.DoesNotContain("Parameter", refused.Message, StringComparison.Ordinal);

        await raw.SendAsync(type, 3, new SubscribeRequest { FromLsn = 4, Credit = 1 });
        Assert.Equal((MessageType.Subscribed, 3u), await TypeAndIdAsync(raw));
    }

    [Fact]
    public async Task CommitCursorBeyondWritten_OutOfRangeInTheProtocolsWords()
    {
        await AppendAsync(2);
        await using var raw = await HelloAsync();
        await raw.SendAsync(MessageType.CommitCursor, 2, new CommitCursorRequest { Name = "c", Lsn = 3 });
        var reply = await raw.ReadReplyAsync();
        Assert.Equal(TruthDbErrorCode.OutOfRange, reply!.Code);
        Assert.DoesNotContain("Parameter", reply.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Actual value", reply.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordsMessages_AtMost64KiBOfPayload_UnlessOneRecordIsBigger()
    {
        int[] sizes = [40_000, 40_000, 30_000, 30_000, 10, 100_000, 65_536, 1, 65_535, 20_000, 20_000, 20_000, 20_000];
        await using (var client = await _server.ConnectAsync())
        {
            await client.AppendBatchAsync([.. sizes.Select((size, i) => new ReadOnlyMemory<byte>(Payload(size, i)))]);
        }

        await using var raw = await HelloAsync();
        await raw.SendAsync(MessageType.Read, 2, new SubscribeRequest { FromLsn = 1, Credit = 100 });
        Assert.Equal((MessageType.Subscribed, 2u), await TypeAndIdAsync(raw));
        using var subscription = await raw.AcceptSubscriptionAsync(2);
        var lsn = 1L;
        while (await subscription.ReadAsync() is { Type: MessageType.Records } message)
        {
            var records = (RecordsBody)message.Body;
            Assert.Equal(lsn, records.FirstLsn);
            var bytes = records.Payloads.Sum(p => p.Length);
            Assert.True(bytes <= ProtocolConstants.RecordsMessageBytes || records.Payloads.Length == 1, $"a Records message of {records.Payloads.Length} records holds {bytes} payload bytes");
            foreach (var payload in records.Payloads)
            {
                Assert.Equal(Payload(sizes[lsn - 1], (int)lsn - 1), payload);
                lsn++;
            }
        }

        Assert.Equal(sizes.Length + 1, lsn);
    }

    [Theory]
    [InlineData("credit-too-large", TruthDbErrorCode.InvalidArgument)]
    [InlineData("negative-credit", TruthDbErrorCode.InvalidArgument)]
    [InlineData("not-a-credit", TruthDbErrorCode.BadRequest)]
    [InlineData("truncated", TruthDbErrorCode.BadRequest)]
    [InlineData("too-long", TruthDbErrorCode.MessageTooLarge)]
    public async Task BadMessageOnASubscription_ErrorOnItsChannelThenItEnds_ConnectionGoesOn(string kind, TruthDbErrorCode expected)
    {
        await AppendAsync(1);
        await using var raw = await HelloAsync();
        await raw.SendAsync(MessageType.Tail, 2, new SubscribeRequest { FromLsn = 1, Credit = 0 });
        Assert.Equal((MessageType.Subscribed, 2u), await TypeAndIdAsync(raw));
        using var subscription = await raw.AcceptSubscriptionAsync(2);
        switch (kind)
        {
            case "credit-too-large":
                await subscription.CreditAsync(2, 65_537);
                break;
            case "negative-credit":
                await subscription.CreditAsync(2, -1);
                break;
            case "not-a-credit":
                await subscription.WriteAsync(MessageType.Ping, 2, EmptyBody.Instance);
                break;
            case "truncated":
                await subscription.WriteMessageAsync([0x93, 0x22]);
                break;
            default:
                await subscription.WriteMessageAsync(new byte[2000]);
                break;
        }

        var error = await subscription.ReadAsync();
        Assert.Equal(MessageType.Error, error!.Value.Type);
        Assert.Equal((int)expected, ((ErrorReply)error.Value.Body).Code);
        Assert.Null(await subscription.ReadAsync());
        await AssertPingAnsweredAsync(raw, 3);
    }

    [Fact]
    public async Task CreditZero_GrantsNothing_ALaterCreditStartsTheRead()
    {
        await AppendAsync(3);
        await using var raw = await HelloAsync();
        await raw.SendAsync(MessageType.Read, 2, new SubscribeRequest { FromLsn = 1, Credit = 0 });
        Assert.Equal((MessageType.Subscribed, 2u), await TypeAndIdAsync(raw));
        using var subscription = await raw.AcceptSubscriptionAsync(2);
        await subscription.CreditAsync(2, 0);
        await subscription.CreditAsync(2, 1);
        var records = await subscription.ReadAsync();
        Assert.Equal(MessageType.Records, records!.Value.Type);
        Assert.Equal(1, ((RecordsBody)records.Value.Body).FirstLsn);
        var end = await subscription.ReadAsync();
        Assert.Equal(MessageType.End, end!.Value.Type);
        Assert.Equal(3, ((EndBody)end.Value.Body).LastLsn);
    }

    private static byte[] Payload(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<(MessageType, uint)> TypeAndIdAsync(RawConnection raw)
    {
        var reply = await raw.ReadReplyAsync();
        return (reply!.Type, reply.Id);
    }

    private static async Task AssertPingAnsweredAsync(RawConnection raw, uint id)
    {
        await raw.SendAsync(MessageType.Ping, id, EmptyBody.Instance);
        Assert.Equal((MessageType.Pong, id), await TypeAndIdAsync(raw));
    }

    private async Task AppendAsync(int count)
    {
        await using var client = await _server.ConnectAsync();
        for (var i = 0; i < count; i++)
        {
            await client.AppendAsync(Encoding.UTF8.GetBytes("record " + i));
        }
    }

    private async Task<RawConnection> HelloAsync()
    {
        var raw = await RawConnection.ConnectAsync(_server.Socket);
        await raw.HelloAsync();
        Assert.Equal(MessageType.HelloReply, (await raw.ReadReplyAsync())!.Type);
        return raw;
    }
}
