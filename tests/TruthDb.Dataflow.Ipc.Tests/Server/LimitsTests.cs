using MessagePack;
using TruthDb.Dataflow.Ipc.Protocol;
using TruthDb.Dataflow.Ipc.Tests.Support;

namespace TruthDb.Dataflow.Ipc.Tests.Server;

public sealed class LimitsTests : IAsyncLifetime
{
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(new TruthDbServerOptions { MaxSubscriptionsPerConnection = 2 });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Append_MorePayloadsThanAllowed_BadRequestNothingWritten()
    {
        await using var raw = await RawConnection.ConnectAsync(_server.Socket);
        await raw.HelloAsync();
        await raw.ReadReplyAsync();
        await raw.WriteMessageAsync((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write((int)MessageType.Append);
            w.Write(2);
            w.WriteArrayHeader(2);
            w.WriteArrayHeader(ProtocolConstants.MaxAppendRecords + 1);
            for (var i = 0; i <= ProtocolConstants.MaxAppendRecords; i++)
            {
                w.Write(ReadOnlySpan<byte>.Empty);
            }

            w.Write(true);
        });
        var reply = await raw.ReadReplyAsync();
        Assert.Equal((TruthDbErrorCode.BadRequest, 2u), (reply!.Code, reply.Id));
        Assert.Equal(0, _server.Wal.WrittenLsn);
    }

    [Fact]
    public async Task Tail_MoreThanAllowedOnOneConnection_TooManySubscriptions()
    {
        await using var client = await _server.ConnectAsync();
        await client.AppendAsync(new byte[] { 1 });
        var tails = new List<IAsyncEnumerator<WalRecord>>();
        for (var i = 0; i < 2; i++)
        {
            var tail = client.ReadAsync(1, new ReadOptions { Follow = true }, Timeouts.Token()).GetAsyncEnumerator();
            Assert.True(await tail.MoveNextAsync());
            tails.Add(tail);
        }

        var third = client.ReadAsync(1, new ReadOptions { Follow = true }, Timeouts.Token()).GetAsyncEnumerator();
        var error = await Assert.ThrowsAsync<TruthDbException>(async () => await third.MoveNextAsync());
        Assert.Equal(TruthDbErrorCode.TooManySubscriptions, error.ErrorCode);

        // Closing one makes room again.
        await tails[0].DisposeAsync();
        await using var other = await _server.ConnectAsync();
        Assert.Equal(2, await other.AppendAsync(new byte[] { 2 }));
        Assert.True(await tails[1].MoveNextAsync());
        Assert.Equal(2, tails[1].Current.Lsn);
        await tails[1].DisposeAsync();
    }
}
