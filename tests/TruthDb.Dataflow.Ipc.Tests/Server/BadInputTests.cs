using System.Text;
using MessagePack;
using TruthDb.Dataflow.Ipc.Protocol;
using TruthDb.Dataflow.Ipc.Tests.Support;

namespace TruthDb.Dataflow.Ipc.Tests.Server;

/// <summary>
/// Garbage on the socket: each case gets an error reply or closes only that connection; a second
/// connection keeps working, appends made around it are all there, and the log verifies clean.
/// </summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private InProcessServer _server = null!;
    private TruthDbClient _bystander = null!;

    public async Task InitializeAsync()
    {
        _server = await InProcessServer.StartAsync(new TruthDbServerOptions { MaxMessageSize = 64 * 1024, MaxUnexpectedChannels = 4 });
        _bystander = await _server.ConnectAsync();
        await _bystander.AppendAsync(Encoding.UTF8.GetBytes("before"));
    }

    public async Task DisposeAsync()
    {
        await _bystander.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task RandomBytes_BelowTheMultiplexer_ClosesOnlyThatConnection()
    {
        using var socket = RawConnection.ConnectSocket(_server.Socket);
        var garbage = new byte[64 * 1024];
        new Random(42).NextBytes(garbage);
        try
        {
            await socket.SendAsync(garbage);
        }
        catch (System.Net.Sockets.SocketException)
        {
            // Closed while we wrote: as good.
        }

        await WaitUntilClosedAsync(socket);
        await AssertOthersUnharmedAsync();
    }

    [Fact]
    public async Task RandomBytes_OnTheControlChannel_AnsweredOrClosedAndOthersUnharmed()
    {
        var random = new Random(7);
        for (var round = 0; round < 20; round++)
        {
            await using var raw = await RawConnection.ConnectAsync(_server.Socket);
            await raw.HelloAsync();
            Assert.Equal(MessageType.HelloReply, (await raw.ReadReplyAsync())!.Type);
            var garbage = new byte[random.Next(1, 2000)];
            random.NextBytes(garbage);
            await raw.WriteRawAsync(garbage);
            await raw.Control.Output.CompleteAsync();

            // Replies (errors) or an end: never a hang, never a crash.
            while (await raw.ReadReplyAsync() is { } reply)
            {
                Assert.Equal(MessageType.Error, reply.Type);
            }
        }

        await AssertOthersUnharmedAsync();
    }

    [Fact]
    public async Task TruncatedFrame_ThenChannelEnds_ClosesOnlyThatConnection()
    {
        await using var raw = await RawConnection.ConnectAsync(_server.Socket);
        await raw.HelloAsync();
        await raw.ReadReplyAsync();
        await raw.WriteRawAsync([0, 0, 0, 100, 0x93, 2, 5]);
        await raw.Control.Output.CompleteAsync();
        Assert.Null(await raw.ReadReplyAsync());
        await raw.WaitClosedAsync();
        await AssertOthersUnharmedAsync();
    }

    [Fact]
    public async Task WrongMessagePackTypes_BadRequestAndConnectionGoesOn()
    {
        await using var raw = await RawConnection.ConnectAsync(_server.Socket);
        await raw.HelloAsync();
        await raw.ReadReplyAsync();

        // Not an array at all.
        await raw.WriteMessageAsync((ref MessagePackWriter w) => w.Write("hello"));
        // The type is a string.
        await raw.WriteMessageAsync((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write("append");
            w.Write(3);
            w.WriteArrayHeader(0);
        });
        // An Append whose payloads are a string and whose durable flag is a map.
        await raw.WriteMessageAsync((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write((int)MessageType.Append);
            w.Write(4);
            w.WriteArrayHeader(2);
            w.Write("not payloads");
            w.WriteMapHeader(0);
        });
        // A Read whose body is nil.
        await raw.WriteMessageAsync((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write((int)MessageType.Read);
            w.Write(5);
            w.WriteNil();
        });
        // An Append claiming 2^31 payloads in a few bytes.
        await raw.WriteMessageAsync((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write((int)MessageType.Append);
            w.Write(6);
            w.WriteArrayHeader(2);
            w.WriteArrayHeader(int.MaxValue);
        });
        // Deep nesting in a field that should be a string.
        await raw.WriteMessageAsync((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write((int)MessageType.CommitCursor);
            w.Write(7);
            w.WriteArrayHeader(2);
            for (var i = 0; i < 5000; i++)
            {
                w.WriteArrayHeader(1);
            }

            w.WriteNil();
        });

        var replies = new List<RawConnection.Reply>();
        for (var i = 0; i < 6; i++)
        {
            replies.Add((await raw.ReadReplyAsync())!);
        }

        Assert.All(replies, r => Assert.Equal(TruthDbErrorCode.BadRequest, r.Code));
        Assert.Equal([0u, 0u, 4u, 5u, 6u, 7u], replies.Select(r => r.Id).Order());

        // Same connection: a good request is still answered.
        await raw.SendAsync(MessageType.Ping, 8, EmptyBody.Instance);
        var pong = await raw.ReadReplyAsync();
        Assert.Equal((MessageType.Pong, 8u), (pong!.Type, pong.Id));
        Assert.Equal(0, _server.Server.Counters.ConnectionsClosedForBadInput);
        await AssertOthersUnharmedAsync();
    }

    [Fact]
    public async Task UnknownMessageType_ErrorAndConnectionGoesOn()
    {
        await using var raw = await RawConnection.ConnectAsync(_server.Socket);
        await raw.HelloAsync();
        await raw.ReadReplyAsync();
        await raw.WriteMessageAsync((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(3);
            w.Write(99);
            w.Write(9);
            w.WriteArrayHeader(0);
        });
        var reply = await raw.ReadReplyAsync();
        Assert.Equal((TruthDbErrorCode.UnknownMessage, 9u), (reply!.Code, reply.Id));
        await raw.SendAsync(MessageType.Ping, 10, EmptyBody.Instance);
        Assert.Equal(MessageType.Pong, (await raw.ReadReplyAsync())!.Type);
        Assert.Equal(0, _server.Server.Counters.ConnectionsClosedForBadInput);
        await AssertOthersUnharmedAsync();
    }

    [Theory]
    [InlineData(0xFFFFFFFFu)]
    [InlineData(64u * 1024 + 1)]
    public async Task OversizedLength_MessageTooLargeThenOnlyThatConnectionCloses(uint length)
    {
        await using var raw = await RawConnection.ConnectAsync(_server.Socket);
        await raw.HelloAsync();
        await raw.ReadReplyAsync();
        var prefix = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(prefix, length);
        await raw.WriteRawAsync(prefix);
        var reply = await raw.ReadReplyAsync();
        Assert.Equal(TruthDbErrorCode.MessageTooLarge, reply!.Code);
        await raw.WaitClosedAsync();
        Assert.Equal(1, _server.Server.Counters.ConnectionsClosedForBadInput);
        await AssertOthersUnharmedAsync();
    }

    [Fact]
    public async Task FloodOfChannelOffers_ClosesOnlyThatConnection()
    {
        await using var raw = await RawConnection.ConnectAsync(_server.Socket);
        var offers = new List<Task>();
        for (var i = 0; i < 50; i++)
        {
            offers.Add(raw.Multiplexer.OfferChannelAsync("flood." + i, Timeouts.Token()));
        }

        await raw.WaitClosedAsync();
        foreach (var offer in offers)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => offer);
        }

        await AssertOthersUnharmedAsync();
    }

    [Fact]
    public async Task RequestBeforeHello_HelloRequiredAndNothingWritten()
    {
        await using var raw = await RawConnection.ConnectAsync(_server.Socket);
        await raw.SendAsync(MessageType.Append, 3, new AppendRequest { Payloads = [new byte[] { 1 }] });
        var reply = await raw.ReadReplyAsync();
        Assert.Equal((TruthDbErrorCode.HelloRequired, 3u), (reply!.Code, reply.Id));
        Assert.Equal(1, _server.Wal.WrittenLsn);
    }

    private static async Task WaitUntilClosedAsync(System.Net.Sockets.Socket socket)
    {
        var buffer = new byte[4096];
        var ct = Timeouts.Token();
        try
        {
            while (await socket.ReceiveAsync(buffer, ct) > 0)
            {
            }
        }
        catch (System.Net.Sockets.SocketException)
        {
            // Reset: closed.
        }
    }

    // Another connection still works and sees every record; after the server and log close, verify is clean.
    private async Task AssertOthersUnharmedAsync()
    {
        var lsn = await _bystander.AppendAsync(Encoding.UTF8.GetBytes("after"));
        await using (var fresh = await _server.ConnectAsync())
        {
            Assert.Equal(lsn + 1, await fresh.AppendAsync(Encoding.UTF8.GetBytes("fresh")));
            var count = 0;
            await foreach (var record in fresh.ReadAsync(0, ct: Timeouts.Token()))
            {
                count++;
            }

            Assert.Equal(lsn + 1, count);
        }

        await _bystander.DisposeAsync();
        await _server.StopAndVerifyAsync();
    }
}
