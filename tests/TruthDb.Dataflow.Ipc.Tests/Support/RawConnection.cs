using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using MessagePack;
using Nerdbank.Streams;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Tests.Support;

/// <summary>
/// A hand-driven client for protocol tests: a socket, the multiplexer and the control channel, with
/// raw bytes or hand-built MessagePack written to it and replies read back as envelopes.
/// </summary>
internal sealed class RawConnection : IAsyncDisposable
{
    private readonly MessageReader _reader;

    private RawConnection(Socket socket, MultiplexingStream multiplexer, MultiplexingStream.Channel control)
    {
        Socket = socket;
        Multiplexer = multiplexer;
        Control = control;
        _reader = new MessageReader(control.Input, 64 * 1024 * 1024);
    }

    public Socket Socket { get; }

    public MultiplexingStream Multiplexer { get; }

    public MultiplexingStream.Channel Control { get; }

    /// <summary>A connected socket only (no multiplexer), for garbage below the multiplexer.</summary>
    public static Socket ConnectSocket(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    public static async Task<RawConnection> ConnectAsync(string path)
    {
        var socket = ConnectSocket(path);
        var multiplexer = MultiplexingStream.Create(new NetworkStream(socket, ownsSocket: true), new MultiplexingStream.Options { ProtocolMajorVersion = 3 });
        var control = await multiplexer.OfferChannelAsync(ProtocolConstants.ControlChannel, Timeouts.Token());
        return new RawConnection(socket, multiplexer, control);
    }

    /// <summary>Bytes as they are, no length prefix added.</summary>
    public async Task WriteRawAsync(byte[] bytes)
    {
        await Control.Output.WriteAsync(bytes);
        await Control.Output.FlushAsync();
    }

    /// <summary>One message: the length prefix, then <paramref name="body"/> as it is.</summary>
    public Task WriteMessageAsync(byte[] body)
    {
        var bytes = new byte[4 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)body.Length);
        body.CopyTo(bytes, 4);
        return WriteRawAsync(bytes);
    }

    /// <summary>A message built with a MessagePack writer.</summary>
    public Task WriteMessageAsync(ActionRef build)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        build(ref writer);
        writer.Flush();
        return WriteMessageAsync(buffer.WrittenSpan.ToArray());
    }

    public delegate void ActionRef(ref MessagePackWriter writer);

    /// <summary>A well-formed request.</summary>
    public Task SendAsync<T>(MessageType type, uint id, T body)
    {
        using var frame = new MessageBuffer();
        MessageCodec.Write(frame, type, id, body);
        return WriteRawAsync(frame.WrittenMemory.ToArray());
    }

    public Task HelloAsync(string? token = null) =>
        SendAsync(MessageType.Hello, 1, new HelloRequest { ProtocolVersion = ProtocolConstants.Version, Token = token });

    /// <summary>The next reply: its type, id and (for errors) the code; null when the server closed the channel.</summary>
    public async Task<Reply?> ReadReplyAsync()
    {
        try
        {
            if (!await _reader.ReadAsync(Timeouts.Token()))
            {
                return null;
            }
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or ObjectDisposedException)
        {
            return null;
        }

        Assert.True(MessageCodec.TryReadEnvelope(_reader.Current, out var type, out var id, out var body));
        var error = type == MessageType.Error ? MessageCodec.ReadBody<ErrorReply>(body) : null;
        return new Reply(type, id, error is null ? null : (TruthDbErrorCode)error.Code, error?.Message);
    }

    /// <summary>Accepts the subscription channel of request <paramref name="id"/> (the server offers it after Subscribed).</summary>
    public async Task<RawSubscription> AcceptSubscriptionAsync(uint id) =>
        new(await Multiplexer.AcceptChannelAsync(ProtocolConstants.SubscriptionChannel(id), Timeouts.Token()));

    /// <summary>Waits until the server has closed this connection (the multiplexer completes).</summary>
    public async Task WaitClosedAsync()
    {
        try
        {
            await Multiplexer.Completion.WaitAsync(Timeouts.Token());
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Faulted is closed too.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await Multiplexer.DisposeAsync();
        Socket.Dispose();
    }

    internal sealed record Reply(MessageType Type, uint Id, TruthDbErrorCode? Code, string? Message);
}
