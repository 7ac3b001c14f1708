using MessagePack;
using MessagePack.Formatters;

namespace TruthDb.Dataflow.Ipc.Protocol;

/// <summary>
/// The hot message's formatter: payloads are decoded as slices of the received message (no copy; the
/// log copies them when the batch is handed over, before the message's buffer is released) and
/// encoded straight from the caller's memory. Same layout as the contract: <c>[payloads, durable]</c>.
/// </summary>
internal sealed class AppendRequestFormatter : IMessagePackFormatter<AppendRequest?>
{
    public static readonly AppendRequestFormatter Instance = new();

    public void Serialize(ref MessagePackWriter writer, AppendRequest? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(2);
        writer.WriteArrayHeader(value.Payloads.Length);
        foreach (var payload in value.Payloads)
        {
            writer.Write(payload.Span);
        }

        writer.Write(value.Durable);
    }

    public AppendRequest? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        options.Security.DepthStep(ref reader);
        try
        {
            var request = new AppendRequest();
            var fields = reader.ReadArrayHeader();
            if (fields > 0)
            {
                var count = reader.ReadArrayHeader();
                if (count > ProtocolConstants.MaxAppendRecords)
                {
                    throw new MessagePackSerializationException($"An Append carries at most {ProtocolConstants.MaxAppendRecords} payloads; this one has {count}.");
                }

                var payloads = new ReadOnlyMemory<byte>[count];
                for (var i = 0; i < count; i++)
                {
                    // ReadBytes would also take a str (and nil): a payload is bin, nothing else, so that a
                    // client never has text stored that it did not mean as bytes.
                    if (reader.NextCode is not (MessagePackCode.Bin8 or MessagePackCode.Bin16 or MessagePackCode.Bin32))
                    {
                        throw new MessagePackSerializationException($"Payload {i} is {reader.NextMessagePackType}; payloads are bin (bin 8/16/32).");
                    }

                    var bytes = reader.ReadBytes() ?? throw new MessagePackSerializationException($"Payload {i} is nil; payloads are bin.");
                    payloads[i] = bytes.IsSingleSegment ? bytes.First : System.Buffers.BuffersExtensions.ToArray(bytes);
                }

                request.Payloads = payloads;
            }

            if (fields > 1)
            {
                request.Durable = reader.ReadBoolean();
            }

            for (var i = 2; i < fields; i++)
            {
                reader.Skip();
            }

            return request;
        }
        finally
        {
            reader.Depth--;
        }
    }
}
