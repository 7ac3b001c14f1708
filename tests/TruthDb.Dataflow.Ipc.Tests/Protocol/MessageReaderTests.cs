using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Tests.Protocol;

/// <summary>Taking a message that is already here without waiting, and leaving a partial one for the next read.</summary>
public sealed class MessageReaderTests
{
    [Fact]
    public async Task TryRead_SecondMessageAlreadyHere_TakesItWithoutWaiting()
    {
        var pipe = new Pipe();
        await WriteAsync(pipe.Writer, Message(1, 2, 3), Message(4));
        using var reader = new MessageReader(pipe.Reader, 1024);

        Assert.True(await reader.ReadAsync(Timeouts.Token()));
        Assert.Equal([1, 2, 3], reader.Current.ToArray());
        Assert.True(reader.TryRead());
        Assert.Equal([4], reader.Current.ToArray());
        Assert.False(reader.TryRead());
    }

    [Fact]
    public async Task TryRead_MessageHalfHere_FalseAndReadAsyncTakesItWhenTheRestComes()
    {
        var pipe = new Pipe();
        var whole = Message(9, 8, 7, 6);
        await WriteAsync(pipe.Writer, Message(1), whole[..6]);
        using var reader = new MessageReader(pipe.Reader, 1024);
        Assert.True(await reader.ReadAsync(Timeouts.Token()));

        Assert.False(reader.TryRead());
        var next = reader.ReadAsync(Timeouts.Token()).AsTask();
        Assert.False(next.IsCompleted);
        await WriteAsync(pipe.Writer, whole[6..]);

        Assert.True(await next);
        Assert.Equal([9, 8, 7, 6], reader.Current.ToArray());
    }

    [Fact]
    public async Task TryRead_StreamEnded_FalseAndReadAsyncSaysSo()
    {
        var pipe = new Pipe();
        await WriteAsync(pipe.Writer, Message(1));
        await pipe.Writer.CompleteAsync();
        using var reader = new MessageReader(pipe.Reader, 1024);
        Assert.True(await reader.ReadAsync(Timeouts.Token()));

        Assert.False(reader.TryRead());
        Assert.False(await reader.ReadAsync(Timeouts.Token()));
    }

    [Fact]
    public async Task TryRead_LengthAboveTheMaximum_FalseAndReadAsyncRefusesIt()
    {
        var pipe = new Pipe();
        await WriteAsync(pipe.Writer, Message(1), Message(new byte[100]));
        using var reader = new MessageReader(pipe.Reader, 64);
        Assert.True(await reader.ReadAsync(Timeouts.Token()));

        Assert.False(reader.TryRead());
        await Assert.ThrowsAsync<MessageTooLargeException>(async () => await reader.ReadAsync(Timeouts.Token()));
    }

    private static byte[] Message(params byte[] content)
    {
        var message = new byte[ProtocolConstants.LengthPrefix + content.Length];
        BinaryPrimitives.WriteUInt32BigEndian(message, (uint)content.Length);
        content.CopyTo(message, ProtocolConstants.LengthPrefix);
        return message;
    }

    private static async Task WriteAsync(PipeWriter writer, params byte[][] parts)
    {
        foreach (var part in parts)
        {
            await writer.WriteAsync(part);
        }
    }
}
