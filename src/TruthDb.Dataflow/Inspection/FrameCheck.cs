namespace TruthDb.Dataflow.Inspection;

/// <summary>The validation status of a frame that <see cref="LogInspector.Dump"/> reports.</summary>
public enum FrameCheck
{
    /// <summary>Checksum, padding and LSN sequence are all right: a record of the log.</summary>
    Valid,

    /// <summary>The checksum or zero padding does not match: garbage, a torn write, or a frame of another log.</summary>
    ChecksumMismatch,

    /// <summary>The length runs past the segment's record area (or the file's end): a cut-off frame or a garbage length.</summary>
    Truncated,

    /// <summary>A frame of this log whose LSN is not the next one.</summary>
    OutOfSequence,

    /// <summary>
    /// A frame of this log that validates, found after a bad frame. It is not part of the readable
    /// log: readers stop at the bad frame.
    /// </summary>
    AfterDamage,
}
