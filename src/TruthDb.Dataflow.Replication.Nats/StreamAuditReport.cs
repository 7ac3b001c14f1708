namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>
/// What <see cref="StreamAuditor"/> found: the stream read through its leader, message by message,
/// compared with the log. <see cref="IsMatch"/> holds only when every LSN from the log's first record
/// (or the stream's first, when the log no longer has it) to the end of the stream, and at least up to
/// <see cref="AcknowledgedLsn"/>, is in the stream exactly once, in order, byte-exact, with this log's id.
/// </summary>
public sealed class StreamAuditReport
{
    /// <summary>The stream.</summary>
    public required string StreamName { get; init; }

    /// <summary>The node that answered (the stream leader), or null for a stream without a cluster.</summary>
    public string? Leader { get; init; }

    /// <summary>The stream's first sequence when the audit began.</summary>
    public ulong FirstSequence { get; init; }

    /// <summary>The stream's last sequence when the audit began (the audit reads up to it).</summary>
    public ulong LastSequence { get; init; }

    /// <summary>Sequences read (messages and deleted sequences).</summary>
    public long SequencesRead { get; init; }

    /// <summary>The lowest LSN of this log in the stream (0 when none).</summary>
    public long FirstLsn { get; init; }

    /// <summary>The highest LSN of this log in the stream (0 when none).</summary>
    public long LastLsn { get; init; }

    /// <summary>The log's identity.</summary>
    public Guid LogId { get; init; }

    /// <summary>The log's first record (what retention kept).</summary>
    public long LogFirstLsn { get; init; }

    /// <summary>The log's durable LSN when the audit began.</summary>
    public long LogDurableLsn { get; init; }

    /// <summary>The replicator's cursor.</summary>
    public required string CursorName { get; init; }

    /// <summary>The LSN the cursor says was shipped.</summary>
    public long CursorLsn { get; init; }

    /// <summary>
    /// The highest LSN the stream acknowledged to the replicator, by its records: the cursor, or the mark
    /// (<see cref="LogNames.AcknowledgedMark"/>) it wrote before moving the cursor back. The stream must reach it.
    /// </summary>
    public long AcknowledgedLsn { get; init; }

    /// <summary>Messages whose ids are right and every record of which equals the log's, byte for byte.</summary>
    public long VerifiedMessages { get; init; }

    /// <summary>Records (in messages of either format) equal to the log's record of the same LSN, byte for byte.</summary>
    public long VerifiedRecords { get; init; }

    /// <summary>Records of LSNs below the log's first record: continuity checked, payload not comparable.</summary>
    public long UncomparableRecords { get; init; }

    /// <summary>Durable LSNs after the stream's last one: not shipped yet (not a difference).</summary>
    public long UnshippedLsns { get; init; }

    /// <summary>LSNs the stream lacks (<see cref="StreamAuditFindingKind.Gap"/>).</summary>
    public long MissingLsns { get; init; }

    /// <summary>LSNs the stream holds a second time.</summary>
    public long Duplicates { get; init; }

    /// <summary>LSNs the stream holds after a higher one.</summary>
    public long OutOfOrder { get; init; }

    /// <summary>Records whose payload differs from the log's, and messages whose id is wrong or whose body cannot be read.</summary>
    public long Mismatches { get; init; }

    /// <summary>Messages that are not this log's.</summary>
    public long ForeignMessages { get; init; }

    /// <summary>Sequences without a message between the first and the last.</summary>
    public long DeletedSequences { get; init; }

    /// <summary>Records of LSNs beyond the log's written end.</summary>
    public long NotInLog { get; init; }

    /// <summary>True when the leader changed during the audit.</summary>
    public bool LeaderChanged { get; init; }

    /// <summary>The first findings, in stream order (at most <see cref="StreamAuditOptions.MaxListed"/>).</summary>
    public required IReadOnlyList<StreamAuditFinding> Findings { get; init; }

    /// <summary>Every finding, listed or not.</summary>
    public long FindingCount { get; init; }

    /// <summary>True when the stream holds exactly the log (see the class summary).</summary>
    public bool IsMatch => FindingCount == 0;
}
