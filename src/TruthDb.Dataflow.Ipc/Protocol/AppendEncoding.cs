using MessagePack;

namespace TruthDb.Dataflow.Ipc.Protocol;

/// <summary>
/// Encodes an Append message while appends join it: the head is reserved first, each payload is written
/// (copied) as its append joins, and the head is filled in when the message is sealed. The bytes are the
/// contract's <c>[2, id, [[payloads], durable]]</c> with fixed-width fields where the value is known
/// only at the end: the id is a MessagePack uint 32 and the payload array an array 32.
/// </summary>
internal static class AppendEncoding
{
    // length (4) | fixarray 3 | Append | uint32 id (5) | fixarray 2 | array32 count (5)
    private const int EnvelopeAt = ProtocolConstants.LengthPrefix;
    private const int IdAt = EnvelopeAt + 2;
    private const int BodyAt = IdAt + 5;
    private const int CountAt = BodyAt + 1;
    private const int HeadLength = CountAt + 5;

    /// <summary>Bytes a payload of <paramref name="length"/> bytes takes in the message at most (its bin header included).</summary>
    public static int PayloadSize(int length) => length + 5;

    /// <summary>Starts a message in <paramref name="buffer"/> (which is reset).</summary>
    public static void Begin(MessageBuffer buffer)
    {
        buffer.Reset();
        buffer.Reserve(HeadLength);
        buffer.Complete(EnvelopeAt, 0x93);
        buffer.Complete(EnvelopeAt + 1, (byte)MessageType.Append);
        buffer.Complete(BodyAt, 0x92);
    }

    /// <summary>Adds one payload (as bin).</summary>
    public static void Add(MessageBuffer buffer, ReadOnlySpan<byte> payload)
    {
        var writer = new MessagePackWriter(buffer);
        writer.Write(payload);
        writer.Flush();
    }

    /// <summary>Completes the message with its id, payload count and durable flag; returns its bytes, length prefix included.</summary>
    public static ReadOnlyMemory<byte> Seal(MessageBuffer buffer, uint id, int count, bool durable)
    {
        var writer = new MessagePackWriter(buffer);
        writer.Write(durable);
        writer.Flush();
        buffer.CompleteUInt32(IdAt, id);
        buffer.CompleteArray32(CountAt, count);
        buffer.CompleteLength(0);
        return buffer.WrittenMemory;
    }
}
