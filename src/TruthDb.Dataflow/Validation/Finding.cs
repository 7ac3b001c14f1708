namespace TruthDb.Dataflow.Validation;

/// <summary>What <see cref="LogValidator"/> found wrong at one place of a log.</summary>
internal enum FindingKind
{
    /// <summary>A segment file that is not a valid segment: damaged header, bad segment size, or a file shorter than its segment size.</summary>
    DamagedSegment,

    /// <summary>A segment whose header carries another log's id.</summary>
    ForeignSegment,

    /// <summary>An LSN that does not continue the log: in a segment's header, in a frame, or between segments.</summary>
    OutOfSequence,

    /// <summary>Damage no crash explains: inside a sealed segment, a missing or wrong seal trailer, or a bad frame with a later frame written after it was durable.</summary>
    MidLogCorruption,

    /// <summary>The last segment ends in a bad frame that nothing proves durable: opening truncates it.</summary>
    TornTail,

    /// <summary>The last segment has zeros where its next frame should be and non-zero bytes after them, none proven durable: opening truncates them.</summary>
    ZeroFilledTail,

    /// <summary>Persisted evidence proves a record past the last valid frame durable: it is damaged or missing.</summary>
    DurableRecordDamaged,
}

/// <summary>One problem, with its exact location.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Segment">The segment file name.</param>
/// <param name="Offset">The byte offset of the problem inside the segment.</param>
/// <param name="Lsn">The LSN of the record that should be at <paramref name="Offset"/>, or 0 when the problem is not a record.</param>
/// <param name="Recoverable">True when opening the log truncates it without losing a record proven durable.</param>
/// <param name="Message">What was found, as a clause.</param>
internal sealed record Finding(FindingKind Kind, string Segment, long Offset, long Lsn, bool Recoverable, string Message);
