using System.Globalization;
using System.Text;

namespace TruthDb.Dataflow.Replication.Nats.Publishing;

/// <summary>
/// The headers every replicated message carries, and how to read them back from a stored message:
/// <list type="bullet">
/// <item><c>Nats-Msg-Id</c>: <c>&lt;log id&gt;:&lt;first&gt;-&lt;last&gt;</c> for a batch, <c>&lt;log id&gt;:&lt;lsn&gt;</c> for a record
/// (the log id as 32 lowercase hex digits, LSNs in decimal): the server's duplicate window drops a replay;</item>
/// <item><c>TruthDb-Log-Id</c>, and <c>TruthDb-First-Lsn</c>, <c>TruthDb-Last-Lsn</c> and <c>TruthDb-Batch</c> (the
/// batch's number: its predecessor's plus 1) for a batch, <c>TruthDb-Lsn</c> for a record: for consumers,
/// reconciliation, the continuity check and the restore;</item>
/// <item><c>Nats-Expected-Last-Msg-Id</c>: the message id of the message's predecessor, on every message
/// (the first of a shipping epoch names the stream's last message as reconciliation read it). When the
/// stream holds no message there is no id to name: the first message carries
/// <c>Nats-Expected-Last-Subject-Sequence: 0</c> (and <c>Nats-Expected-Last-Sequence</c>, the last sequence,
/// if the stream ever held one) instead.</item>
/// </list>
/// </summary>
internal static class MessageHeaders
{
    public const string MsgId = "Nats-Msg-Id";
    public const string ExpectedLastSequence = "Nats-Expected-Last-Sequence";
    public const string ExpectedLastMsgId = "Nats-Expected-Last-Msg-Id";
    public const string ExpectedLastSubjectSequence = "Nats-Expected-Last-Subject-Sequence";
    public const string Lsn = "TruthDb-Lsn";
    public const string FirstLsn = "TruthDb-First-Lsn";
    public const string LastLsn = "TruthDb-Last-Lsn";
    public const string Batch = "TruthDb-Batch";
    public const string LogId = "TruthDb-Log-Id";

    /// <summary>The log id as it appears in headers and message ids: 32 lowercase hex digits.</summary>
    public static string FormatLogId(Guid logId) => logId.ToString("N", CultureInfo.InvariantCulture);

    /// <summary>The message id of record <paramref name="lsn"/> (one record per message).</summary>
    public static string MessageId(string logId, long lsn) => logId + ":" + lsn.ToString(CultureInfo.InvariantCulture);

    /// <summary>The message id of the batch of LSN <paramref name="first"/> to <paramref name="last"/>.</summary>
    public static string BatchMessageId(string logId, long first, long last) =>
        string.Create(CultureInfo.InvariantCulture, $"{logId}:{first}-{last}");

    /// <summary>
    /// Parses a stored message's raw header block (<c>NATS/1.0\r\nName: value\r\n...</c>, base64 in the
    /// JetStream API) into what its TruthDb headers say; false when they are missing or malformed (a
    /// message no replicator published).
    /// </summary>
    public static bool TryParseStored(string? base64Headers, out StoredHeaders headers)
    {
        headers = default;
        if (string.IsNullOrEmpty(base64Headers))
        {
            return false;
        }

        string block;
        try
        {
            block = Encoding.UTF8.GetString(Convert.FromBase64String(base64Headers));
        }
        catch (FormatException)
        {
            return false;
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in block.Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                values.TryAdd(line[..colon].Trim(), line[(colon + 1)..].Trim());
            }
        }

        return TryParse(values.GetValueOrDefault, out headers);
    }

    /// <summary>Like <see cref="TryParseStored"/>, from a header lookup (a delivered message's headers).</summary>
    public static bool TryParse(Func<string, string?> header, out StoredHeaders headers)
    {
        headers = default;
        if (header(LogId) is not { Length: > 0 } logId)
        {
            return false;
        }

        var msgId = header(MsgId) ?? string.Empty;
        if (header(FirstLsn) is { } firstText)
        {
            if (!TryLsn(firstText, out var first) || !TryLsn(header(LastLsn), out var last) || last < first || !TryLsn(header(Batch), out var number))
            {
                return false;
            }

            headers = new StoredHeaders(NatsMessageFormat.Batch, first, last, number, logId, msgId);
            return true;
        }

        if (!TryLsn(header(Lsn), out var lsn))
        {
            return false;
        }

        headers = new StoredHeaders(NatsMessageFormat.Record, lsn, lsn, lsn, logId, msgId);
        return true;
    }

    /// <summary>
    /// True when a "wrong last msg ID" refusal says the server knows no last message id at all
    /// (<c>wrong last msg ID: </c> with nothing after it), as after a restart once the duplicate window has passed.
    /// </summary>
    public static bool ForgotLastMsgId(string description)
    {
        var marker = description.LastIndexOf("ID:", StringComparison.OrdinalIgnoreCase);
        return marker >= 0 && description.AsSpan(marker + 3).Trim().IsEmpty;
    }

    private static bool TryLsn(string? text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1;
}
