using System.Text.Json;
using NATS.Client.Core;

namespace TruthDb.Dataflow.Replication.Nats.Publishing;

/// <summary>What a publish's reply said.</summary>
internal enum AckKind
{
    /// <summary>The stream stored the record (or already had it: a duplicate).</summary>
    Stored,

    /// <summary>The stream answered with an error: the record is not stored.</summary>
    Rejected,

    /// <summary>No stream answered (no responders), or the reply was not a publish acknowledgement: the outcome is unknown.</summary>
    Unknown,

    /// <summary>
    /// A duplicate reply without a sequence: the clustered leader holds a publish with this message id
    /// as proposed and not yet stored (an earlier publish of the record, from an epoch that ended). Not
    /// stored by this publish; stored after all once a later record of the epoch is (its expected last
    /// message id proves its predecessor is there).
    /// </summary>
    InProcess,
}

/// <summary>A parsed publish acknowledgement.</summary>
internal readonly record struct AckResult(AckKind Kind, ulong Sequence, bool Duplicate, int ErrorCode, string Description)
{
    /// <summary>
    /// Parses the reply to a JetStream publish. A reply can look like success and still carry an
    /// error (<c>{"error":{...}}</c> with no stream), so the error is checked first.
    /// </summary>
    public static AckResult From(in NatsMsg<byte[]> msg)
    {
        if (msg.HasNoResponders)
        {
            return new AckResult(AckKind.Unknown, 0, false, 503, "no responders: no stream leader took the publish");
        }

        if (msg.Data is not { Length: > 0 } data)
        {
            var status = msg.Headers is { Code: > 0 } h ? $"status {h.Code} {h.MessageText}" : "an empty reply";
            return new AckResult(AckKind.Unknown, 0, false, 0, status);
        }

        try
        {
            return Parse(data);
        }
        catch (JsonException ex)
        {
            return new AckResult(AckKind.Unknown, 0, false, 0, "an unreadable reply: " + ex.Message);
        }
    }

    // {"stream":"S","seq":7,"duplicate":true} or {"error":{"code":400,"err_code":10071,"description":"..."}}
    private static AckResult Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        ulong seq = 0;
        var duplicate = false;
        var code = 0;
        var errCode = 0;
        string? description = null;
        var error = false;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return new AckResult(AckKind.Unknown, 0, false, 0, "a reply that is not a JSON object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("error"u8))
            {
                error = true;
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isCode = reader.ValueTextEquals("code"u8);
                    var isErrCode = reader.ValueTextEquals("err_code"u8);
                    var isDescription = reader.ValueTextEquals("description"u8);
                    reader.Read();
                    if (isCode && reader.TokenType == JsonTokenType.Number)
                    {
                        code = reader.GetInt32();
                    }
                    else if (isErrCode && reader.TokenType == JsonTokenType.Number)
                    {
                        errCode = reader.GetInt32();
                    }
                    else if (isDescription && reader.TokenType == JsonTokenType.String)
                    {
                        description = reader.GetString();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }

                continue;
            }

            var isSeq = reader.ValueTextEquals("seq"u8);
            var isDuplicate = reader.ValueTextEquals("duplicate"u8);
            reader.Read();
            if (isSeq && reader.TokenType == JsonTokenType.Number)
            {
                seq = reader.GetUInt64();
            }
            else if (isDuplicate && reader.TokenType is JsonTokenType.True or JsonTokenType.False)
            {
                duplicate = reader.GetBoolean();
            }
            else
            {
                reader.Skip();
            }
        }

        if (error)
        {
            return new AckResult(AckKind.Rejected, 0, false, errCode != 0 ? errCode : code, description ?? $"error {code}");
        }

        if (seq == 0)
        {
            // A clustered leader answers a message id it has proposed and not yet stored so.
            return duplicate
                ? new AckResult(AckKind.InProcess, 0, true, 0, "a duplicate reply without a sequence (the leader holds a publish with this message id as in process)")
                : new AckResult(AckKind.Unknown, 0, false, 0, "an acknowledgement without a sequence");
        }

        return new AckResult(AckKind.Stored, seq, duplicate, 0, string.Empty);
    }
}
