namespace TruthDb.Dataflow;

/// <summary>
/// The log's files are damaged in a way that a crash cannot explain (a bad frame with valid, durable
/// frames after it, damage in a sealed segment, a bad segment header). Opening refuses rather than
/// silently dropping records; <see cref="Segment"/> and <see cref="Offset"/> say where. Repair is an
/// explicit, separate action.
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
        : base($"The write-ahead log is corrupted: segment '{segment}', offset {offset}: {problem}.")
    {
        Segment = segment;
        Offset = offset;
    }

    /// <summary>The segment file name where the damage is, when known.</summary>
    public string? Segment { get; }

    /// <summary>The byte offset of the damage inside <see cref="Segment"/>, or -1 when unknown.</summary>
    public long Offset { get; } = -1;
}
