namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>
/// JetStream refused to store a record (its acknowledgement carried an error): a full stream, a
/// wrong expected last sequence (something else publishes into the stream), a message too large.
/// The replicator stops; nothing from <see cref="Lsn"/> on is marked shipped (the cursor stays below it).
/// </summary>
public sealed class ReplicationRejectedException : ReplicationException
{
    /// <summary>Creates the exception.</summary>
    public ReplicationRejectedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ReplicationRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ReplicationRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for the publish of <paramref name="lsn"/> that the server answered with an error.</summary>
    public ReplicationRejectedException(long lsn, int errorCode, string description)
        : base($"JetStream rejected the publish of LSN {lsn}: {description} (error code {errorCode}). Nothing from LSN {lsn} on is marked shipped.")
    {
        Lsn = lsn;
        ErrorCode = errorCode;
        Description = description;
    }

    /// <summary>The LSN whose publish was rejected.</summary>
    public long Lsn { get; }

    /// <summary>The JetStream error code (<c>err_code</c>), e.g. 10071 wrong last sequence, 10077 maximum messages exceeded.</summary>
    public int ErrorCode { get; }

    /// <summary>The server's description of the error.</summary>
    public string Description { get; } = string.Empty;
}
