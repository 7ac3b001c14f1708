using TruthDb.Dataflow.Replication.Nats.Batching;
using TruthDb.Dataflow.Replication.Nats.Sources;

namespace TruthDb.Dataflow.Replication.Nats.Streams;

/// <summary>
/// Is a stream's message the log's own history? Its records are compared byte for byte with the log's
/// records of the same LSNs (those the log still has and has made durable). Checking the continuity of
/// LSNs is not enough after a failover: a promoted copy of the log and the old writer assign the same
/// LSNs to different records, and a replicator of either must not build on the other's messages.
/// </summary>
internal static class HistoryCheck
{
    /// <summary>Throws <see cref="StreamMismatchException"/> when <paramref name="message"/> (read with its body) is damaged or holds other bytes than the log.</summary>
    public static async Task RequireSameAsync(IReplicationSource log, string streamName, string where, StreamEntry message, CancellationToken ct)
    {
        if (!MessageRecords.TryOpen(message.Headers, message.Data ?? [], out var records, out var problem))
        {
            throw new StreamMismatchException(message.Sequence, message.FirstLsn,
                $"The stream '{streamName}''s message at sequence {message.Sequence} ({message.Holds}, {where}) cannot be read: {problem}. Replication stops; 'truthdb replicate --audit' lists every difference.");
        }

        var last = Math.Min(message.LastLsn, log.DurableLsn);
        if (last < message.FirstLsn)
        {
            return;
        }

        var inStream = records.GetEnumerator();
        await foreach (var record in log.ReadAsync(message.FirstLsn, follow: false, ct).ConfigureAwait(false))
        {
            if (record.Lsn > last)
            {
                break;
            }

            while (inStream.MoveNext() && inStream.Current.Lsn < record.Lsn)
            {
                // LSNs the log no longer has (retention): nothing to compare them with.
            }

            var stream = inStream.Current.Payload.Span;
            if (inStream.Current.Lsn != record.Lsn || !stream.SequenceEqual(record.Payload.Span))
            {
                throw new StreamMismatchException(message.Sequence, record.Lsn,
                    $"The stream '{streamName}' holds another history of this log: its message at sequence {message.Sequence} ({message.Holds}, {where}) has other bytes for LSN {record.Lsn} than the log ({stream.Length} bytes in the stream, {record.Payload.Length} in the log). The stream was fed by another copy of this log (after a failover, the promoted copy and the old writer give the same LSNs to different records). Replication stops: this log's records from LSN {record.Lsn} on are not the stream's (docs/replication.md, \"Failover\").");
            }
        }
    }
}
