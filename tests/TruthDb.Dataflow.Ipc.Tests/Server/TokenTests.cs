using MessagePack;
using TruthDb.Dataflow.Ipc.Protocol;
using TruthDb.Dataflow.Ipc.Tests.Support;

namespace TruthDb.Dataflow.Ipc.Tests.Server;

public sealed class TokenTests : IAsyncLifetime
{
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(new TruthDbServerOptions { Token = "s3cret" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Requests_WithoutToken_NothingButHelloAnswered()
    {
        await using var raw = await RawConnection.ConnectAsync(_server.Socket);
        uint id = 10;
        foreach (var type in new[] { MessageType.Append, MessageType.Read, MessageType.Tail, MessageType.CommitCursor, MessageType.Stats, MessageType.Truncate, MessageType.Ping })
        {
            await raw.WriteMessageAsync((ref MessagePackWriter w) =>
            {
                w.WriteArrayHeader(3);
                w.Write((int)type);
                w.Write(id);
                w.WriteArrayHeader(1);
                w.WriteArrayHeader(1);
                w.Write(new byte[] { 1, 2, 3 });
            });
            var reply = await raw.ReadReplyAsync();
            Assert.Equal((MessageType.Error, TruthDbErrorCode.Unauthorized, id), (reply!.Type, reply.Code, reply.Id));
            id++;
        }

        // A Hello without the token, or with a wrong one, is refused too.
        await raw.SendAsync(MessageType.Hello, 20, new HelloRequest { ProtocolVersion = ProtocolConstants.Version });
        Assert.Equal(TruthDbErrorCode.Unauthorized, (await raw.ReadReplyAsync())!.Code);
        await raw.SendAsync(MessageType.Hello, 21, new HelloRequest { ProtocolVersion = ProtocolConstants.Version, Token = "guess" });
        Assert.Equal(TruthDbErrorCode.Unauthorized, (await raw.ReadReplyAsync())!.Code);
        Assert.Equal(0, _server.Wal.WrittenLsn);
        Assert.Empty(_server.Wal.Cursors);

        // The third failure closes the connection.
        await raw.SendAsync(MessageType.Hello, 22, new HelloRequest { ProtocolVersion = ProtocolConstants.Version, Token = "guess2" });
        Assert.Equal(TruthDbErrorCode.Unauthorized, (await raw.ReadReplyAsync())!.Code);
        await raw.WaitClosedAsync();
    }

    [Fact]
    public async Task ConnectAsync_WrongToken_ThrowsUnauthorized()
    {
        var error = await Assert.ThrowsAsync<TruthDbException>(() => _server.ConnectAsync(new TruthDbClientOptions { Token = "nope" }));
        Assert.Equal(TruthDbErrorCode.Unauthorized, error.ErrorCode);
    }

    [Fact]
    public async Task ConnectAsync_RightToken_Works()
    {
        await using var client = await _server.ConnectAsync(new TruthDbClientOptions { Token = "s3cret" });
        Assert.Equal(1, await client.AppendAsync(new byte[] { 1 }));
    }

    [Fact]
    public async Task Hello_WrongVersion_UnsupportedVersion()
    {
        await using var raw = await RawConnection.ConnectAsync(_server.Socket);
        await raw.SendAsync(MessageType.Hello, 1, new HelloRequest { ProtocolVersion = 99, Token = "s3cret" });
        Assert.Equal(TruthDbErrorCode.UnsupportedVersion, (await raw.ReadReplyAsync())!.Code);
    }

    [Fact]
    public async Task Connection_NoHelloInTime_Closed()
    {
        // Long enough that the second client's Hello makes it on a loaded machine; the silent
        // connection waits it out (the test awaits the close, it times nothing).
        await using var server = await InProcessServer.StartAsync(new TruthDbServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(2) });
        await using var raw = await RawConnection.ConnectAsync(server.Socket);
        await raw.WaitClosedAsync();
        Assert.True(raw.Multiplexer.Completion.IsCompleted);
        await using var client = await server.ConnectAsync();
        Assert.Equal(1, await client.AppendAsync(new byte[] { 1 }));
    }
}
