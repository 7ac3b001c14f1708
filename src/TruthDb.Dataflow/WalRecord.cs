namespace TruthDb.Dataflow;

/// <summary>A record read from the log.</summary>
/// <remarks>
/// <see cref="Payload"/> is a view into the reader's buffer: it is valid only until the enumerator
/// moves to the next record (or is disposed). Call <see cref="ToArray"/> to keep a copy.
/// </remarks>
public readonly struct WalRecord
{
    /// <summary>Creates a record.</summary>
    public WalRecord(long lsn, ReadOnlyMemory<byte> payload)
    {
        Lsn = lsn;
        Payload = payload;
    }

    /// <summary>The record's log sequence number (dense, starting at 1).</summary>
    public long Lsn { get; }

    /// <summary>The record's bytes; valid until the enumerator moves on.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>A copy of the payload that stays valid.</summary>
    public byte[] ToArray() => Payload.ToArray();
}
