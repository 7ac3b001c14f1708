using System.Buffers.Binary;

namespace TruthDb.Dataflow.Replication.Nats.Batching;

/// <summary>
/// Gathers consecutive records into the body of the next message: a batch (<see cref="BatchFormat"/>)
/// of at most <c>maxRecords</c> records and <c>maxBytes</c> bytes (a single larger record goes alone),
/// or, for <see cref="NatsMessageFormat.Record"/>, one record's payload. The records are copied in as
/// they come (a read's payload is a view valid only until the read moves on); the buffer is reused
/// from message to message and grows only for a record bigger than it.
/// </summary>
internal sealed class MessageBuilder
{
    private readonly NatsMessageFormat _format;
    private readonly int _maxRecords;
    private readonly int _maxBytes;
    private byte[] _buffer;
    private int _length;

    public MessageBuilder(NatsMessageFormat format, int maxRecords, int maxBytes)
    {
        _format = format;
        _maxRecords = format == NatsMessageFormat.Record ? 1 : maxRecords;
        _maxBytes = maxBytes;
        _buffer = new byte[format == NatsMessageFormat.Record ? 4096 : Math.Min(maxBytes, 1 << 20)];
    }

    /// <summary>Records gathered.</summary>
    public int Count { get; private set; }

    /// <summary>The first record's LSN.</summary>
    public long FirstLsn { get; private set; }

    /// <summary>The last record's LSN.</summary>
    public long LastLsn { get; private set; }

    /// <summary>The records' payload bytes (without lengths and header).</summary>
    public long PayloadBytes { get; private set; }

    /// <summary>True when no further record fits by count.</summary>
    public bool IsFull => Count >= _maxRecords;

    /// <summary>True when a record of <paramref name="payloadLength"/> bytes may join (always for the first).</summary>
    public bool Fits(int payloadLength) =>
        Count == 0 || (Count < _maxRecords && (long)_length + BatchFormat.LengthPrefix + payloadLength + BatchFormat.ChecksumLength <= _maxBytes);

    /// <summary>The body's size once finished, if a record of <paramref name="payloadLength"/> bytes came alone.</summary>
    public int SizeAlone(int payloadLength) => _format == NatsMessageFormat.Record
        ? payloadLength
        : BatchFormat.HeaderLength + BatchFormat.LengthPrefix + payloadLength + BatchFormat.ChecksumLength;

    /// <summary>Copies <paramref name="record"/> in; it must be the next LSN and fit (<see cref="Fits"/>).</summary>
    public void Add(in WalRecord record)
    {
        var payload = record.Payload.Span;
        if (Count == 0)
        {
            FirstLsn = record.Lsn;
            _length = _format == NatsMessageFormat.Record ? 0 : BatchFormat.HeaderLength;
        }
        else if (record.Lsn != LastLsn + 1)
        {
            throw new InvalidOperationException($"LSN {record.Lsn} does not follow LSN {LastLsn} in the message.");
        }

        var prefix = _format == NatsMessageFormat.Record ? 0 : BatchFormat.LengthPrefix;
        Reserve(_length + prefix + payload.Length + BatchFormat.ChecksumLength);
        if (prefix > 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length), (uint)payload.Length);
        }

        payload.CopyTo(_buffer.AsSpan(_length + prefix));
        _length += prefix + payload.Length;
        LastLsn = record.Lsn;
        PayloadBytes += payload.Length;
        Count++;
    }

    /// <summary>
    /// The finished body (header and checksum written for a batch). Valid until <see cref="Clear"/> or
    /// the next <see cref="Add"/>.
    /// </summary>
    public ReadOnlyMemory<byte> Finish()
    {
        if (_format == NatsMessageFormat.Record)
        {
            return _buffer.AsMemory(0, _length);
        }

        var body = _buffer.AsSpan(0, _length + BatchFormat.ChecksumLength);
        BatchFormat.WriteHeader(body, FirstLsn, Count);
        BatchFormat.Seal(body);
        return _buffer.AsMemory(0, body.Length);
    }

    /// <summary>Starts the next message.</summary>
    public void Clear()
    {
        Count = 0;
        PayloadBytes = 0;
        _length = 0;
    }

    private void Reserve(int size)
    {
        if (size > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(size, _buffer.Length * 2));
        }
    }
}
