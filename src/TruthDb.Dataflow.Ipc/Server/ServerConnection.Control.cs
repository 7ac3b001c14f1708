using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Nerdbank.Streams;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>The control channel: reading requests in order, the Hello gate, and dispatch.</summary>
internal sealed partial class ServerConnection
{
    private const int MaxHelloFailures = 3;

    private async Task ControlLoopAsync(MultiplexingStream.Channel control)
    {
        _ = CloseWithoutHelloAsync();
        using var reader = new MessageReader(control.Input, Options.MaxMessageSize);
        while (true)
        {
            bool read;
            try
            {
                read = await reader.ReadAsync(_stopReading.Token).ConfigureAwait(false);
            }
            catch (MessageTooLargeException ex)
            {
                // The stream cannot be resynchronised without reading the whole oversized message: say
                // why, then close this connection.
                await ReplyErrorAsync(0, TruthDbErrorCode.MessageTooLarge, ex.Message).ConfigureAwait(false);
                await RefuseAsync(ex.Message).ConfigureAwait(false);
                return;
            }

            if (!read)
            {
                return;
            }

            if (!MessageCodec.TryReadEnvelope(reader.Current, out var type, out var id, out var body))
            {
                await ReplyErrorAsync(id, TruthDbErrorCode.BadRequest, "A message is a MessagePack array [type, id, body] with an integer type and an unsigned 32-bit id.").ConfigureAwait(false);
                continue;
            }

            if (id == 0)
            {
                // 0 is reserved for errors about messages whose id could not be read: a reply with it
                // could not be told apart from one.
                await ReplyErrorAsync(0, TruthDbErrorCode.BadRequest, "Request ids are 1 to 4294967295; 0 is reserved.").ConfigureAwait(false);
                continue;
            }

            if (!_helloDone && type != MessageType.Hello)
            {
                var code = Options.Token is null ? TruthDbErrorCode.HelloRequired : TruthDbErrorCode.Unauthorized;
                await ReplyErrorAsync(id, code, "The first request on a connection must be a successful Hello.").ConfigureAwait(false);
                continue;
            }

            await _inFlight.WaitAsync(_stopReading.Token).ConfigureAwait(false);
            Task handling;
            try
            {
                handling = Dispatch(type, id, body);
            }
            catch (Exception ex)
            {
                // The synchronous part (decoding the body, handing an append to the log) failed.
                handling = ReplyFailureAsync(type, id, ex);
            }

            var released = ReleaseWhenDoneAsync(handling);
            if (_helloFailures >= MaxHelloFailures)
            {
                await released.ConfigureAwait(false);
                await RefuseAsync($"{MaxHelloFailures} failed Hello attempts").ConfigureAwait(false);
                return;
            }
        }
    }

    // Decodes the body before returning (it points into the channel's buffer) and starts the work.
    private Task Dispatch(MessageType type, uint id, ReadOnlySequence<byte> body) => type switch
    {
        MessageType.Hello => HelloAsync(id, MessageCodec.ReadBody<HelloRequest>(body)),
        MessageType.Append => AppendAsync(id, MessageCodec.ReadBody<AppendRequest>(body)),
        MessageType.Read => SubscribeAsync(id, MessageCodec.ReadBody<SubscribeRequest>(body), follow: false),
        MessageType.Tail => SubscribeAsync(id, MessageCodec.ReadBody<SubscribeRequest>(body), follow: true),
        MessageType.CommitCursor => CommitCursorAsync(id, MessageCodec.ReadBody<CommitCursorRequest>(body)),
        MessageType.Stats => StatsAsync(id, MessageCodec.ReadBody<EmptyBody>(body)),
        MessageType.Truncate => TruncateAsync(id, MessageCodec.ReadBody<TruncateRequest>(body)),
        MessageType.Ping => ReplyAsync(id, MessageType.Pong, MessageCodec.ReadBody<EmptyBody>(body)),
        _ => ReplyErrorAsync(id, TruthDbErrorCode.UnknownMessage, $"Message type {(int)type} is not a request this server knows."),
    };

    private Task HelloAsync(uint id, HelloRequest hello)
    {
        if (hello.ProtocolVersion != ProtocolConstants.Version)
        {
            return ReplyErrorAsync(id, TruthDbErrorCode.UnsupportedVersion, $"This server speaks protocol version {ProtocolConstants.Version}; the client asked for {hello.ProtocolVersion}.");
        }

        if (Options.Token is { } token && !TokenMatches(token, hello.Token))
        {
            _helloFailures++;
            return ReplyErrorAsync(id, TruthDbErrorCode.Unauthorized, "The token is missing or wrong.");
        }

        Volatile.Write(ref _helloDone, true);
        return ReplyAsync(id, MessageType.HelloReply, new HelloReply
        {
            ProtocolVersion = ProtocolConstants.Version,
            ServerName = Options.ServerName,
            LogId = Reader.LogId.ToString("D"),
            MaxMessageSize = Options.MaxMessageSize,
            WrittenLsn = Reader.WrittenLsn,
            DurableLsn = Reader.DurableLsn,
            FirstLsn = Reader.FirstLsn,
            ReadOnly = _server.Log.IsReadOnly,
        });
    }

    // A connection that does not complete a Hello in time is closed (it holds server resources).
    private async Task CloseWithoutHelloAsync()
    {
        try
        {
            await Task.Delay(Options.HandshakeTimeout, _closed.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (!Volatile.Read(ref _helloDone))
        {
            await RefuseAsync($"no successful Hello within {Options.HandshakeTimeout.TotalSeconds:0.#} s").ConfigureAwait(false);
        }
    }

    private static bool TokenMatches(string expected, string? given) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(given));

    private async Task ReleaseWhenDoneAsync(Task handling)
    {
        try
        {
            await handling.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Sending a reply failed: the connection is going away; the work itself is done.
            _ = ex;
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private Task ReplyFailureAsync(MessageType type, uint id, Exception ex)
    {
        var (code, message) = ErrorMapping.From(ex);
        if (code == TruthDbErrorCode.Internal)
        {
            TruthDbServerEvents.RequestFailed(_server.Logger, ex, type.ToString(), _id);
        }

        return ReplyErrorAsync(id, code, message);
    }

    private Task ReplyAsync<T>(uint id, MessageType type, T body) =>
        _replies!.SendAsync(type, id, body, _closed.Token).AsTask();

    private Task ReplyErrorAsync(uint id, TruthDbErrorCode code, string message) =>
        ReplyAsync(id, MessageType.Error, new ErrorReply { Code = (int)code, Message = message });
}
