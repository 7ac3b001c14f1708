namespace TruthDb.Dataflow.Ipc;

/// <summary>
/// The append was sent but the connection was lost before its reply: it may or may not be in the log
/// (and may or may not be durable). The client never retries it by itself; a caller that must know
/// reads the log (for instance by a key in the payload) after reconnecting.
/// </summary>
public sealed class TruthDbAppendOutcomeUnknownException : TruthDbConnectionException
{
    /// <summary>Creates the exception.</summary>
    public TruthDbAppendOutcomeUnknownException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public TruthDbAppendOutcomeUnknownException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TruthDbAppendOutcomeUnknownException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
