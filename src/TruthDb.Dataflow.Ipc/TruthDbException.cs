namespace TruthDb.Dataflow.Ipc;

/// <summary>The server answered a request with an error (the connection goes on unless the code says otherwise).</summary>
public class TruthDbException : Exception
{
    /// <summary>Creates an exception with <see cref="TruthDbErrorCode.Unknown"/>.</summary>
    public TruthDbException()
    {
    }

    /// <summary>Creates an exception with <see cref="TruthDbErrorCode.Unknown"/>.</summary>
    public TruthDbException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with <see cref="TruthDbErrorCode.Unknown"/>.</summary>
    public TruthDbException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for an error reply.</summary>
    public TruthDbException(TruthDbErrorCode errorCode, string message)
        : base(message) => ErrorCode = errorCode;

    /// <summary>The protocol's error code.</summary>
    public TruthDbErrorCode ErrorCode { get; }
}
