using System.Globalization;
using System.Text;

namespace TruthDb.Dataflow.Replication.Nats.Publishing;

/// <summary>
/// The headers every replicated record carries, and how to read them back from a stored message:
/// <list type="bullet">
/// <item><c>Nats-Msg-Id: &lt;log id&gt;:&lt;lsn&gt;</c> (the log id as 32 lowercase hex digits, the LSN in decimal): the
/// server's duplicate window drops a replay;</item>
/// <item><c>TruthDb-Lsn: &lt;lsn&gt;</c> and <c>TruthDb-Log-Id: &lt;log id&gt;</c>: for consumers, and for reconciliation;</item>
/// <item><c>Nats-Expected-Last-Msg-Id: &lt;log id&gt;:&lt;lsn - 1&gt;</c>: the stream stores the record only directly
/// after its predecessor, so nothing lands after a gap or a foreign message. The first record of a
/// shipping epoch carries it too (the last LSN reconciliation found), together with
/// <c>Nats-Expected-Last-Sequence: &lt;seq&gt;</c> (the stream's last sequence found by reconciliation); when the
/// stream holds no message there is no id to name, and it carries <c>Nats-Expected-Last-Subject-Sequence: 0</c>
/// (and the last sequence, if the stream ever held one) instead. Only when the server refused a last
/// message id although its leader returns that very message as its last (it knows no last message id
/// after a restart past the duplicate window, or a stale one) are the next epochs' first records
/// anchored by sequence alone, until one is stored.</item>
/// </list>
/// </summary>
internal static class MessageHeaders
{
    public const string MsgId = "Nats-Msg-Id";
    public const string ExpectedLastSequence = "Nats-Expected-Last-Sequence";
    public const string ExpectedLastMsgId = "Nats-Expected-Last-Msg-Id";
    public const string ExpectedLastSubjectSequence = "Nats-Expected-Last-Subject-Sequence";
    public const string Lsn = "TruthDb-Lsn";
    public const string LogId = "TruthDb-Log-Id";

    /// <summary>The log id as it appears in headers and message ids: 32 lowercase hex digits.</summary>
    public static string FormatLogId(Guid logId) => logId.ToString("N", CultureInfo.InvariantCulture);

    /// <summary>The message id of record <paramref name="lsn"/>.</summary>
    public static string MessageId(string logId, long lsn) => logId + ":" + lsn.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses a stored message's raw header block (<c>NATS/1.0\r\nName: value\r\n...</c>, base64 in the
    /// JetStream API) into its LSN and log id headers; false when either is missing or malformed.
    /// </summary>
    public static bool TryParseStored(string? base64Headers, out long lsn, out string logId) =>
        TryParseStored(base64Headers, out lsn, out logId, out _);

    /// <summary>Like the overload without <paramref name="msgId"/>, and also returns the <c>Nats-Msg-Id</c> header (empty when none).</summary>
    public static bool TryParseStored(string? base64Headers, out long lsn, out string logId, out string msgId)
    {
        lsn = 0;
        logId = string.Empty;
        msgId = string.Empty;
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

        string? lsnText = null;
        string? idText = null;
        foreach (var line in block.Split("\r\n"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals(Lsn, StringComparison.OrdinalIgnoreCase))
            {
                lsnText = value;
            }
            else if (name.Equals(LogId, StringComparison.OrdinalIgnoreCase))
            {
                idText = value;
            }
            else if (name.Equals(MsgId, StringComparison.OrdinalIgnoreCase))
            {
                msgId = value;
            }
        }

        if (idText is null || !long.TryParse(lsnText, NumberStyles.None, CultureInfo.InvariantCulture, out lsn) || lsn < 1)
        {
            lsn = 0;
            return false;
        }

        logId = idText;
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
}
