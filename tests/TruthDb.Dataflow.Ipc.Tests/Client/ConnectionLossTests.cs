using Nerdbank.Streams;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Tests.Client;

/// <summary>A connection lost with appends in flight: they are reported as unknown, never failed-and-retried.</summary>
public sealed class ConnectionLossTests
{
    [Fact]
    public async Task AppendAsync_ConnectionLostBeforeReply_OutcomeUnknown()
    {
        var (clientSide, serverSide) = FullDuplexStream.CreatePair();
        var appendSeen = new TaskCompletionSource();

        // A server that answers Hello, reads one Append, and then vanishes without replying.
        var server = Task.Run(async () =>
        {
            await using var multiplexer = MultiplexingStream.Create(serverSide, new MultiplexingStream.Options { ProtocolMajorVersion = 3 });
            var control = await multiplexer.AcceptChannelAsync(ProtocolConstants.ControlChannel, Timeouts.Token());
            using var reader = new MessageReader(control.Input, 1 << 20);
            using var sender = new MessageSender(control.Output);
            Assert.True(await reader.ReadAsync(Timeouts.Token()));
            MessageCodec.TryReadEnvelope(reader.Current, out _, out var helloId, out _);
            await sender.SendAsync(MessageType.HelloReply, helloId, new HelloReply { ProtocolVersion = 1, LogId = Guid.NewGuid().ToString(), MaxMessageSize = 1 << 20 });
            Assert.True(await reader.ReadAsync(Timeouts.Token()));
            MessageCodec.TryReadEnvelope(reader.Current, out var type, out _, out _);
            Assert.Equal(MessageType.Append, type);
            appendSeen.SetResult();
            serverSide.Dispose();
        });

        await using var client = await TruthDbClient.ConnectStreamAsync(clientSide, null, Timeouts.Token());
        var append = client.AppendAsync(new byte[] { 1, 2, 3 }).AsTask();
        await appendSeen.Task.WaitAsync(Timeouts.Token());
        await server;
        await Assert.ThrowsAsync<TruthDbAppendOutcomeUnknownException>(() => append.WaitAsync(Timeouts.Token()));
        await client.Completion.WaitAsync(Timeouts.Token());

        // After the loss, a new append is known not to be sent: a plain connection error, not "unknown".
        var after = await Assert.ThrowsAnyAsync<TruthDbConnectionException>(async () => await client.AppendAsync(new byte[] { 4 }));
        Assert.IsNotType<TruthDbAppendOutcomeUnknownException>(after);
    }
}
