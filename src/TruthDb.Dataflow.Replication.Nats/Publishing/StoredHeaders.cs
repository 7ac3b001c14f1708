namespace TruthDb.Dataflow.Replication.Nats.Publishing;

/// <summary>
/// What a stored message's TruthDb headers say: its format, the LSNs it carries, its batch number (a
/// batch's <c>TruthDb-Batch</c>; for a record message its LSN, which plays the same part), the log id
/// and the message id.
/// </summary>
internal readonly record struct StoredHeaders(NatsMessageFormat Format, long FirstLsn, long LastLsn, long Ordinal, string LogId, string MsgId)
{
    /// <summary>The message id the replicator gives a message of this format and LSNs.</summary>
    public string ExpectedMsgId => Format == NatsMessageFormat.Record
        ? MessageHeaders.MessageId(LogId, FirstLsn)
        : MessageHeaders.BatchMessageId(LogId, FirstLsn, LastLsn);
}
