namespace TruthDb.Dataflow.Ipc;

/// <summary>
/// The connection to the server is lost or was never made. A request that fails with this was not
/// sent (an append that fails with it was not written); appends that were sent and not answered fail
/// with <see cref="TruthDbAppendOutcomeUnknownException"/> instead. Reconnecting is the caller's choice.
/// </summary>
public class TruthDbConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TruthDbConnectionException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public TruthDbConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TruthDbConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
