using System.Buffers;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Tests.Protocol;

/// <summary>The client's incremental Append encoding is the contract's message, as the server decodes it.</summary>
public sealed class AppendEncodingTests
{
    [Theory]
    [InlineData(1u, true)]
    [InlineData(uint.MaxValue, false)]
    public void Seal_PayloadsOfEveryBinWidth_DecodesAsTheAppendRequest(uint id, bool durable)
    {
        byte[][] payloads = [[], [7], Filled(255), Filled(256), Filled(65_535), Filled(65_536), Filled(70_000)];
        using var buffer = new MessageBuffer();
        AppendEncoding.Begin(buffer);
        foreach (var payload in payloads)
        {
            AppendEncoding.Add(buffer, payload);
        }

        var message = AppendEncoding.Seal(buffer, id, payloads.Length, durable);

        var body = new ReadOnlySequence<byte>(message[ProtocolConstants.LengthPrefix..]);
        Assert.Equal((uint)(message.Length - ProtocolConstants.LengthPrefix), System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(message.Span));
        Assert.True(MessageCodec.TryReadEnvelope(body, out var type, out var readId, out var request));
        Assert.Equal(MessageType.Append, type);
        Assert.Equal(id, readId);
        var decoded = MessageCodec.ReadBody<AppendRequest>(request);
        Assert.Equal(durable, decoded.Durable);
        Assert.Equal(payloads.Length, decoded.Payloads.Length);
        for (var i = 0; i < payloads.Length; i++)
        {
            Assert.True(payloads[i].AsSpan().SequenceEqual(decoded.Payloads[i].Span), $"payload {i} differs");
        }
    }

    [Fact]
    public void Begin_ReusedBuffer_StartsANewMessage()
    {
        using var buffer = new MessageBuffer();
        AppendEncoding.Begin(buffer);
        AppendEncoding.Add(buffer, Filled(1000));
        AppendEncoding.Seal(buffer, 5, 1, durable: true);

        AppendEncoding.Begin(buffer);
        AppendEncoding.Add(buffer, [1, 2, 3]);
        var message = AppendEncoding.Seal(buffer, 6, 1, durable: true);

        Assert.True(MessageCodec.TryReadEnvelope(new ReadOnlySequence<byte>(message[ProtocolConstants.LengthPrefix..]), out _, out var id, out var body));
        Assert.Equal(6u, id);
        Assert.Equal([1, 2, 3], MessageCodec.ReadBody<AppendRequest>(body).Payloads[0].ToArray());
    }

    private static byte[] Filled(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(i * 31);
        }

        return bytes;
    }
}
