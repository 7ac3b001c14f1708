using System.Buffers.Binary;
using TruthDb.Dataflow.Replication.Nats.Batching;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>
/// The records of one batched message (<see cref="NatsMessageFormat.Batch"/>): consecutive LSNs from
/// <see cref="FirstLsn"/>, each a view into the message's body (no copy). Decoding checks the whole
/// body first (magic, version, CRC-32, lengths), so enumerating it cannot fail. docs/replication.md
/// gives the body byte for byte, with decoders in Go, Python and JavaScript.
/// </summary>
/// <example>
/// <code>
/// var batch = RecordBatch.Decode(msg.Data);         // InvalidDataException when damaged
/// foreach (var record in batch)
/// {
///     Handle(record.Lsn, record.Payload);           // valid as long as msg.Data is
/// }
/// </code>
/// </example>
public readonly struct RecordBatch
{
    private readonly ReadOnlyMemory<byte> _body;

    private RecordBatch(ReadOnlyMemory<byte> body, long firstLsn, int count)
    {
        _body = body;
        FirstLsn = firstLsn;
        Count = count;
    }

    /// <summary>The LSN of the first record.</summary>
    public long FirstLsn { get; }

    /// <summary>The LSN of the last record.</summary>
    public long LastLsn => FirstLsn + Count - 1;

    /// <summary>How many records the batch holds (at least 1 once decoded).</summary>
    public int Count { get; }

    /// <summary>Decodes a batch body, checking it first.</summary>
    /// <exception cref="InvalidDataException">The body is not a batch, is of an unknown version, is damaged (CRC-32) or malformed.</exception>
    public static RecordBatch Decode(ReadOnlyMemory<byte> body)
    {
        var status = BatchFormat.Check(body.Span, out var first, out var count);
        return status == BatchStatus.Valid
            ? new RecordBatch(body, first, count)
            : throw new InvalidDataException($"The message body ({body.Length} bytes) is {BatchFormat.Describe(status)}.");
    }

    /// <summary>Decodes a batch body; false when it is not a valid batch (see <see cref="Decode"/>).</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> body, out RecordBatch batch)
    {
        if (BatchFormat.Check(body.Span, out var first, out var count) == BatchStatus.Valid)
        {
            batch = new RecordBatch(body, first, count);
            return true;
        }

        batch = default;
        return false;
    }

    /// <summary>The records in LSN order; each payload is a view into the body.</summary>
    public Enumerator GetEnumerator() => new(_body, FirstLsn, Count);

    /// <summary>Walks a decoded batch's records.</summary>
    public struct Enumerator
    {
        private readonly ReadOnlyMemory<byte> _body;
        private readonly long _end;
        private int _offset;
        private long _lsn;

        internal Enumerator(ReadOnlyMemory<byte> body, long firstLsn, int count)
        {
            _body = body;
            _offset = BatchFormat.HeaderLength;
            _lsn = firstLsn - 1;
            _end = firstLsn + count - 1;
            Current = default;
        }

        /// <summary>The current record.</summary>
        public WalRecord Current { get; private set; }

        /// <summary>Moves to the next record; false after the last.</summary>
        public bool MoveNext()
        {
            if (_lsn >= _end)
            {
                return false;
            }

            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(_body.Span[_offset..]);
            _offset += BatchFormat.LengthPrefix;
            _lsn++;
            Current = new WalRecord(_lsn, _body.Slice(_offset, length));
            _offset += length;
            return true;
        }
    }
}
