namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>
/// The stream does not hold what the log says was shipped, and the replicator cannot put it right:
/// its sequence-to-LSN mapping is not continuous (a gap, a duplicate, an LSN out of order, a deleted
/// message), or it holds less than the cursor says was shipped and the log no longer has the records
/// to ship again. The replicator stops rather than ship past it; <see cref="Sequence"/> and
/// <see cref="Lsn"/> say where it was found. <c>truthdb replicate --audit</c> lists every difference.
/// </summary>
public sealed class StreamMismatchException : ReplicationException
{
    /// <summary>Creates the exception.</summary>
    public StreamMismatchException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public StreamMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public StreamMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for what was found at stream sequence <paramref name="sequence"/> and LSN <paramref name="lsn"/>.</summary>
    public StreamMismatchException(ulong sequence, long lsn, string message)
        : base(message)
    {
        Sequence = sequence;
        Lsn = lsn;
    }

    /// <summary>The stream sequence where the mismatch was found.</summary>
    public ulong Sequence { get; }

    /// <summary>The LSN the message there holds, or the first LSN missing there.</summary>
    public long Lsn { get; }
}
