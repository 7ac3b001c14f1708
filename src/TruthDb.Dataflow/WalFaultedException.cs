namespace TruthDb.Dataflow;

/// <summary>
/// Thrown to every append once the log has failed (fail-stop): a write or sync failed, and nothing is
/// acknowledged after that. <see cref="Exception.InnerException"/> holds the first IO error. Reopening
/// the log runs recovery.
/// </summary>
public class WalFaultedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WalFaultedException()
        : base("The write-ahead log has faulted.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public WalFaultedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the IO error that faulted the log.</summary>
    public WalFaultedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
