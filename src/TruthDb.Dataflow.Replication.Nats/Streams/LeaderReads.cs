using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TruthDb.Dataflow.Replication.Nats.Publishing;

namespace TruthDb.Dataflow.Replication.Nats.Streams;

/// <summary>One stream sequence as the stream leader returned it.</summary>
/// <param name="Sequence">The stream sequence asked for.</param>
/// <param name="Exists">False when the sequence holds no message (deleted, or beyond the stream).</param>
/// <param name="Parsed">True when the message carries TruthDb headers (<paramref name="Headers"/>).</param>
/// <param name="Headers">What its TruthDb headers say (default unless <paramref name="Parsed"/>).</param>
/// <param name="Data">The body, when asked for.</param>
internal readonly record struct StreamEntry(ulong Sequence, bool Exists, bool Parsed, StoredHeaders Headers, byte[]? Data)
{
    /// <summary>The first LSN the message carries (0 unless parsed).</summary>
    public long FirstLsn => Headers.FirstLsn;

    /// <summary>The last LSN the message carries (0 unless parsed).</summary>
    public long LastLsn => Headers.LastLsn;

    /// <summary>The message's place in the log's sequence of messages: the batch number, or a record's LSN.</summary>
    public long Ordinal => Headers.Ordinal;

    /// <summary>The message's format (meaningful when parsed).</summary>
    public NatsMessageFormat Format => Headers.Format;

    /// <summary>The log id header (empty unless parsed).</summary>
    public string LogId => Headers.LogId ?? string.Empty;

    /// <summary>The <c>Nats-Msg-Id</c> header (empty unless parsed, or when it has none).</summary>
    public string MsgId => Headers.MsgId ?? string.Empty;

    /// <summary>True when the message is this log's (<paramref name="logId"/>: 32 lowercase hex digits).</summary>
    public bool IsOf(string logId) => Exists && Parsed && string.Equals(LogId, logId, StringComparison.OrdinalIgnoreCase);

    /// <summary>What it holds, for messages: "LSN 7" for a record, "LSN 7 to 9 (batch 3)" for a batch.</summary>
    public string Holds => Format == NatsMessageFormat.Record
        ? LsnRange.Text(FirstLsn, FirstLsn)
        : LsnRange.Span(FirstLsn, LastLsn) + " (batch " + Ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")";

    /// <summary>A stream entry for a sequence that holds no message.</summary>
    public static StreamEntry Missing(ulong sequence) => new(sequence, false, false, default, null);
}

/// <summary>
/// Single messages by sequence through the JetStream API's message get (<c>$JS.API.STREAM.MSG.GET</c>),
/// which the stream leader answers (not a direct get, which any replica may answer): what the
/// replicator builds on, what the audit compares and where the restore positions itself is the view
/// of the node that takes the publishes.
/// </summary>
internal static class LeaderReads
{
    private const int NoMessageFound = 10037;

    public static async Task<StreamEntry> GetAsync(INatsJSStream stream, ulong sequence, bool withData, CancellationToken ct)
    {
        StoredMessage message;
        try
        {
            var response = await stream.GetAsync(new StreamMsgGetRequest { Seq = sequence }, ct).ConfigureAwait(false);
            message = response.Message;
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == NoMessageFound || ex.Error.Code == 404)
        {
            return StreamEntry.Missing(sequence);
        }

        var parsed = MessageHeaders.TryParseStored(message.Hdrs, out var headers);
        var data = withData ? message.Data.ToArray() : null;
        return new StreamEntry(sequence, true, parsed, headers, data);
    }

    /// <summary>Where the stream's leader is, for messages: "its leader n2", or "the server" for a stream without a cluster.</summary>
    public static string Describe(StreamInfo info) =>
        info.Cluster?.Leader is { Length: > 0 } leader ? "its leader " + leader : "the server";
}
