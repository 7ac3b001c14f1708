namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>What kind of difference between a stream and its log an audit found.</summary>
public enum StreamAuditFindingKind
{
    /// <summary>LSNs the stream lacks: between two messages, before its first message, or after its last up to the cursor.</summary>
    Gap = 0,

    /// <summary>An LSN the stream holds a second time.</summary>
    Duplicate = 1,

    /// <summary>An LSN that comes after a higher one (it fills an earlier gap out of order).</summary>
    OutOfOrder = 2,

    /// <summary>A message whose payload or message id differs from the log's record.</summary>
    Mismatch = 3,

    /// <summary>A message that is not this log's (no TruthDb headers, or another log id).</summary>
    Foreign = 4,

    /// <summary>A sequence between the stream's first and last that holds no message.</summary>
    Deleted = 5,

    /// <summary>An LSN beyond the log's written end: the log does not have it.</summary>
    NotInLog = 6,

    /// <summary>The stream's leader changed while the audit read it: the result mixes two nodes' views.</summary>
    LeaderChanged = 7,
}

/// <summary>One difference an audit found, where: the stream sequence and the LSN concerned.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Sequence">The stream sequence where it was found (0 when it concerns none).</param>
/// <param name="Lsn">The LSN concerned (the first missing one for a gap).</param>
/// <param name="Description">One line saying what was found.</param>
public readonly record struct StreamAuditFinding(StreamAuditFindingKind Kind, ulong Sequence, long Lsn, string Description);
