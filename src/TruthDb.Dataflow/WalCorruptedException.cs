namespace TruthDb.Dataflow;

/// <summary>
/// The log's files are damaged in a way that a crash cannot explain (a bad frame with valid, durable
/// frames after it, damage in a sealed segment, a bad segment header). Opening refuses rather than
/// silently dropping records; <see cref="Segment"/>, <see cref="Offset"/> and <see cref="Lsn"/> say where.
/// Repair is an explicit, separate action: <c>truthdb repair</c> (<see cref="Repair.LogRepair"/>) cuts
/// the log before the damage and keeps every byte it cuts in a quarantine file.
/// </summary>
public class WalCorruptedException : IOException
{
    /// <summary>Creates the exception.</summary>
    public WalCorruptedException()
        : base("The write-ahead log is corrupted.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public WalCorruptedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public WalCorruptedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for damage at <paramref name="offset"/> of <paramref name="segment"/>.</summary>
    public WalCorruptedException(string segment, long offset, string problem)
        : this(segment, offset, 0, problem)
    {
    }

    /// <summary>Creates the exception for damage at <paramref name="offset"/> of <paramref name="segment"/>, where the record <paramref name="lsn"/> should be.</summary>
    public WalCorruptedException(string segment, long offset, long lsn, string problem)
        : base(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"The write-ahead log is corrupted: segment '{segment}', offset {offset}{(lsn > 0 ? $", LSN {lsn}" : string.Empty)}: {problem}. Nothing was changed; 'truthdb repair' cuts the log before the damage and moves everything after it into quarantine."))
    {
        Segment = segment;
        Offset = offset;
        Lsn = lsn;
    }

    /// <summary>The segment file name where the damage is, when known.</summary>
    public string? Segment { get; }

    /// <summary>The byte offset of the damage inside <see cref="Segment"/>, or -1 when unknown.</summary>
    public long Offset { get; } = -1;

    /// <summary>The LSN of the record that should be at <see cref="Offset"/>, or 0 when the damage is not a record (a header, a trailer, a sidecar file).</summary>
    public long Lsn { get; }
}
