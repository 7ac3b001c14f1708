using System.Buffers;
using MessagePack;
using MessagePack.Resolvers;

namespace TruthDb.Dataflow.Ipc.Protocol;

/// <summary>
/// Encodes and decodes messages. A message is a 4-byte big-endian length, then a MessagePack array
/// <c>[type, id, body]</c> of that many bytes; <c>body</c> is the message's own array. Everything read
/// from a peer is decoded with <see cref="MessagePackSecurity.UntrustedData"/> (bounded depth,
/// collision-resistant hashing), and decoding failures are <c>MessagePackSerializationException</c>s
/// that the caller answers with a BadRequest error: never a crash, never a dropped connection.
/// </summary>
internal static class MessageCodec
{
    /// <summary>The serializer options for every message (both directions).</summary>
    public static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard
        .WithResolver(CompositeResolver.Create([AppendRequestFormatter.Instance], [StandardResolverAllowPrivate.Instance]))
        .WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>Appends one complete message (length prefix included) to <paramref name="buffer"/>.</summary>
    public static void Write<T>(MessageBuffer buffer, MessageType type, uint id, T body)
    {
        var at = buffer.Reserve(ProtocolConstants.LengthPrefix);
        var writer = new MessagePackWriter(buffer);
        WriteEnvelope(ref writer, type, id);
        MessagePackSerializer.Serialize(ref writer, body, Options);
        writer.Flush();
        buffer.CompleteLength(at);
    }

    /// <summary>Writes the start of an envelope: the array header, type and id (the body follows).</summary>
    public static void WriteEnvelope(ref MessagePackWriter writer, MessageType type, uint id)
    {
        writer.WriteArrayHeader(3);
        writer.Write((int)type);
        writer.Write(id);
    }

    /// <summary>
    /// Reads the envelope of <paramref name="message"/>. Returns false (with the id when it could be read,
    /// else 0) when the envelope is not <c>[int, uint, body]</c>, also when the message is empty or ends
    /// inside the envelope.
    /// </summary>
    public static bool TryReadEnvelope(ReadOnlySequence<byte> message, out MessageType type, out uint id, out ReadOnlySequence<byte> body)
    {
        type = 0;
        id = 0;
        body = default;
        try
        {
            var reader = new MessagePackReader(message);
            if (reader.NextMessagePackType != MessagePackType.Array || reader.ReadArrayHeader() < 3)
            {
                return false;
            }

            if (reader.NextMessagePackType != MessagePackType.Integer)
            {
                return false;
            }

            var code = reader.ReadInt64();
            if (reader.NextMessagePackType != MessagePackType.Integer)
            {
                return false;
            }

            var rawId = reader.ReadInt64();
            if (rawId < 0 || rawId > uint.MaxValue)
            {
                return false;
            }

            id = (uint)rawId;
            type = code is >= 0 and <= 255 ? (MessageType)code : 0;
            body = message.Slice(reader.Position);
            return true;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException)
        {
            // EndOfStreamException: the message ends inside the envelope (or is empty).
            return false;
        }
    }

    /// <summary>Decodes a body (throws <c>MessagePackSerializationException</c> when it does not match).</summary>
    public static T ReadBody<T>(ReadOnlySequence<byte> body)
    {
        if (body.IsEmpty)
        {
            throw new MessagePackSerializationException("The message has no body.");
        }

        var reader = new MessagePackReader(body);
        if (reader.NextMessagePackType != MessagePackType.Array)
        {
            throw new MessagePackSerializationException($"A message body is an array; got {reader.NextMessagePackType}.");
        }

        return MessagePackSerializer.Deserialize<T>(ref reader, Options) ?? throw new MessagePackSerializationException("The message body is nil.");
    }
}
