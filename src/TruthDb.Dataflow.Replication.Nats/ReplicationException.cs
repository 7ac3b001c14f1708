namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>
/// Replication cannot go on: the stream does not fit (other subjects, replicas or storage than asked
/// for), it holds another log's records or more than the log has, or the servers stayed unreachable
/// longer than <see cref="NatsReplicatorOptions.RetryLimit"/>. Nothing is lost: the cursor and the
/// stream hold what was shipped, and a restart reconciles with them.
/// </summary>
public class ReplicationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ReplicationException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ReplicationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ReplicationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
