namespace TruthDb.Dataflow.Inspection;

/// <summary>What <see cref="LogInspector.Verify"/> found at one place of a log directory.</summary>
public enum LogCondition
{
    /// <summary>Nothing wrong: every segment and frame validates and the log ends cleanly.</summary>
    Clean,

    /// <summary>
    /// The last segment ends in a bad frame (garbage, a cut-off or torn write) and nothing proves that
    /// it was durable (no later frame's synced-LSN field, no clean-close note or watermark mirror of
    /// this log): what a crash leaves. Opening the log truncates it.
    /// </summary>
    TornTail,

    /// <summary>
    /// The last segment has zeros where its next frame should be and non-zero bytes after them, none
    /// of which (nor the clean-close note or the watermark mirror) proves a lost record was durable:
    /// pages written before a crash that never reached the disk. Opening the log truncates it.
    /// </summary>
    ZeroFilledTail,

    /// <summary>
    /// A bad frame that no crash explains: inside a sealed segment, or in the last segment with a
    /// later frame written after the bad record was durable. Also a damaged or missing seal trailer.
    /// Opening refuses (or a reader fails when it reaches a sealed segment's damage).
    /// </summary>
    MidLogCorruption,

    /// <summary>
    /// A segment whose header carries another log's id: a file copied from another log (the log's id is
    /// the one most segment headers carry). None of its frames validate as this log's.
    /// </summary>
    ForeignFrame,

    /// <summary>
    /// A valid frame of this log with an LSN that does not continue the log, or a segment whose first
    /// LSN does not continue the segment before it (a missing or overlapping segment).
    /// </summary>
    OutOfSequence,

    /// <summary>A segment file that is not a valid segment: damaged header, bad segment size, or a file shorter than its segment size.</summary>
    DamagedSegment,

    /// <summary>
    /// The end of the log is damaged or missing below what persisted evidence proves durable: the
    /// clean-close note or the watermark mirror of this log vouches for an LSN past the last valid
    /// frame. Opening refuses; <c>truthdb repair</c> cuts the log there.
    /// </summary>
    DurableRecordDamaged,

    /// <summary>
    /// A durable cursor's file (<c>cursor-NAME.cur</c>) is damaged: its committed LSN is unknown. Opening
    /// the log refuses; <c>truthdb repair</c> keeps the file's bytes in quarantine and commits the cursor
    /// again at LSN 0, so its consumer reads again from the first record.
    /// </summary>
    DamagedCursor,
}
