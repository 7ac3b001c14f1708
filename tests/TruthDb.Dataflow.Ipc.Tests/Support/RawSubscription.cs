using System.Buffers.Binary;
using Nerdbank.Streams;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Tests.Support;

/// <summary>A subscription channel driven by hand: messages read back whole, raw bytes or Credits written to it.</summary>
internal sealed class RawSubscription : IDisposable
{
    private readonly MessageReader _reader;

    public RawSubscription(MultiplexingStream.Channel channel)
    {
        Channel = channel;
        _reader = new MessageReader(channel.Input, 64 * 1024 * 1024);
    }

    public MultiplexingStream.Channel Channel { get; }

    /// <summary>The next message (type and its body decoded as <see cref="RecordsBody"/>, <see cref="EndBody"/> or <see cref="ErrorReply"/>); null at the channel's end.</summary>
    public async Task<(MessageType Type, object Body)?> ReadAsync()
    {
        if (!await _reader.ReadAsync(Timeouts.Token()))
        {
            return null;
        }

        Assert.True(MessageCodec.TryReadEnvelope(_reader.Current, out var type, out _, out var body));
        return type switch
        {
            MessageType.Records => (type, MessageCodec.ReadBody<RecordsBody>(body)),
            MessageType.End => (type, MessageCodec.ReadBody<EndBody>(body)),
            MessageType.Error => (type, MessageCodec.ReadBody<ErrorReply>(body)),
            _ => throw new InvalidOperationException($"Unexpected message type {type} on a subscription channel."),
        };
    }

    public Task CreditAsync(uint id, int messages) => WriteAsync(MessageType.Credit, id, new CreditBody { Messages = messages });

    public async Task WriteAsync<T>(MessageType type, uint id, T body)
    {
        using var frame = new MessageBuffer();
        MessageCodec.Write(frame, type, id, body);
        await WriteRawAsync(frame.WrittenMemory.ToArray());
    }

    /// <summary>One message: the length prefix, then <paramref name="body"/> as it is.</summary>
    public Task WriteMessageAsync(byte[] body)
    {
        var bytes = new byte[4 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)body.Length);
        body.CopyTo(bytes, 4);
        return WriteRawAsync(bytes);
    }

    public void Dispose()
    {
        _reader.Dispose();
        Channel.Dispose();
    }

    private async Task WriteRawAsync(byte[] bytes)
    {
        await Channel.Output.WriteAsync(bytes);
        await Channel.Output.FlushAsync();
    }
}
