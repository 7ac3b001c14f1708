namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>How records travel in the stream's messages (docs/replication.md, "What is in the stream").</summary>
public enum NatsMessageFormat
{
    /// <summary>
    /// Consecutive records packed into one message (the default): headers <c>TruthDb-First-Lsn</c> and
    /// <c>TruthDb-Last-Lsn</c>, a body of the records' lengths and payloads with a CRC-32 (decode it with
    /// <see cref="RecordBatch"/>). Up to <see cref="NatsReplicatorOptions.BatchMaxRecords"/> records and
    /// <see cref="NatsReplicatorOptions.BatchMaxBytes"/> bytes a message: shipping keeps up with the writer.
    /// </summary>
    Batch = 0,

    /// <summary>One message per record, the payload as the body and the LSN in <c>TruthDb-Lsn</c>: for consumers that want a record per message.</summary>
    Record = 1,
}
