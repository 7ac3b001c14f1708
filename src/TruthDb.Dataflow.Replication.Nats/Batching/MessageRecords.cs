using TruthDb.Dataflow.Replication.Nats.Publishing;

namespace TruthDb.Dataflow.Replication.Nats.Batching;

/// <summary>
/// The records a stored message carries, whatever its format: a record message's body is one record,
/// a batch's body is checked (<see cref="BatchFormat"/>) and must hold exactly the LSNs its headers name.
/// Payloads are views into the body.
/// </summary>
internal readonly struct MessageRecords
{
    private readonly RecordBatch _batch;
    private readonly WalRecord _single;

    private MessageRecords(RecordBatch batch, WalRecord single)
    {
        _batch = batch;
        _single = single;
    }

    /// <summary>Opens the records of a message with <paramref name="headers"/> and <paramref name="body"/>; false with a reason when the body does not hold what the headers say.</summary>
    public static bool TryOpen(in StoredHeaders headers, ReadOnlyMemory<byte> body, out MessageRecords records, out string problem)
    {
        records = default;
        problem = string.Empty;
        if (headers.Format == NatsMessageFormat.Record)
        {
            records = new MessageRecords(default, new WalRecord(headers.FirstLsn, body));
            return true;
        }

        var status = BatchFormat.Check(body.Span, out _, out _);
        if (status != BatchStatus.Valid)
        {
            problem = $"its body ({body.Length} bytes) is {BatchFormat.Describe(status)}";
            return false;
        }

        var batch = RecordBatch.Decode(body);
        if (batch.FirstLsn != headers.FirstLsn || batch.LastLsn != headers.LastLsn)
        {
            problem = $"its body holds {Streams.LsnRange.Span(batch.FirstLsn, batch.LastLsn)}, its headers say {Streams.LsnRange.Span(headers.FirstLsn, headers.LastLsn)}";
            return false;
        }

        records = new MessageRecords(batch, default);
        return true;
    }

    /// <summary>The records in LSN order.</summary>
    public Enumerator GetEnumerator() => new(_batch, _single);

    /// <summary>Walks the records.</summary>
    public struct Enumerator(RecordBatch batch, WalRecord single)
    {
        private RecordBatch.Enumerator _records = batch.GetEnumerator();
        private bool _singleDone = batch.Count > 0;

        /// <summary>The current record.</summary>
        public WalRecord Current { get; private set; }

        /// <summary>Moves to the next record.</summary>
        public bool MoveNext()
        {
            if (!_singleDone)
            {
                _singleDone = true;
                Current = single;
                return true;
            }

            if (_records.MoveNext())
            {
                Current = _records.Current;
                return true;
            }

            return false;
        }
    }
}
