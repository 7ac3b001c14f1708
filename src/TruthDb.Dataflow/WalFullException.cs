namespace TruthDb.Dataflow;

/// <summary>
/// The log is full: the disk had no room for the next segment, so this append was refused before
/// any of it was written. The log is not faulted: it stays readable, records already acknowledged
/// are safe, and appends succeed again once space is freed.
/// </summary>
public class WalFullException : IOException
{
    /// <summary>Creates the exception.</summary>
    public WalFullException()
        : base("The write-ahead log is full.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public WalFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the disk-full error behind it.</summary>
    public WalFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
