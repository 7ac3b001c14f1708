using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TruthDb.Dataflow.Replication.Nats.Publishing;

namespace TruthDb.Dataflow.Replication.Nats.Streams;

/// <summary>One stream sequence as the stream leader returned it.</summary>
/// <param name="Sequence">The stream sequence asked for.</param>
/// <param name="Exists">False when the sequence holds no message (deleted, or beyond the stream).</param>
/// <param name="Parsed">True when the message carries the TruthDb LSN and log id headers.</param>
/// <param name="Lsn">The LSN header (0 unless <paramref name="Parsed"/>).</param>
/// <param name="LogId">The log id header (empty unless <paramref name="Parsed"/>).</param>
/// <param name="MsgId">The <c>Nats-Msg-Id</c> header, empty when none.</param>
/// <param name="Data">The payload, when asked for.</param>
internal readonly record struct StreamEntry(ulong Sequence, bool Exists, bool Parsed, long Lsn, string LogId, string MsgId, byte[]? Data)
{
    /// <summary>True when the message is this log's record (<paramref name="logId"/>: 32 lowercase hex digits).</summary>
    public bool IsOf(string logId) => Exists && Parsed && string.Equals(LogId, logId, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Single messages by sequence through the JetStream API's message get (<c>$JS.API.STREAM.MSG.GET</c>),
/// which the stream leader answers (not a direct get, which any replica may answer): what the
/// replicator builds on and what the audit compares is the view of the node that takes the publishes.
/// </summary>
internal static class LeaderReads
{
    private const int NoMessageFound = 10037;

    public static async Task<StreamEntry> GetAsync(INatsJSStream stream, ulong sequence, bool withData, CancellationToken ct)
    {
        StoredMessage message;
        try
        {
            var response = await stream.GetAsync(new StreamMsgGetRequest { Seq = sequence }, ct);
            message = response.Message;
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == NoMessageFound || ex.Error.Code == 404)
        {
            return new StreamEntry(sequence, false, false, 0, string.Empty, string.Empty, null);
        }

        var parsed = MessageHeaders.TryParseStored(message.Hdrs, out var lsn, out var logId, out var msgId);
        var data = withData ? message.Data.ToArray() : null;
        return new StreamEntry(sequence, true, parsed, lsn, logId, msgId, data);
    }

    /// <summary>Where the stream's leader is, for messages: "its leader n2", or "the server" for a stream without a cluster.</summary>
    public static string Describe(StreamInfo info) =>
        info.Cluster?.Leader is { Length: > 0 } leader ? "its leader " + leader : "the server";
}
