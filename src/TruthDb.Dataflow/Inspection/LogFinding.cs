namespace TruthDb.Dataflow.Inspection;

/// <summary>One problem <see cref="LogInspector.Verify"/> found, with its exact location.</summary>
public sealed class LogFinding
{
    internal LogFinding(LogCondition condition, string segment, long offset, long lsn, bool recoverable, string message)
    {
        Condition = condition;
        Segment = segment;
        Offset = offset;
        Lsn = lsn;
        Recoverable = recoverable;
        Message = message;
    }

    /// <summary>What kind of problem it is.</summary>
    public LogCondition Condition { get; }

    /// <summary>The file name: a segment's, or for <see cref="LogCondition.DamagedCursor"/> the cursor's file.</summary>
    public string Segment { get; }

    /// <summary>The byte offset of the problem inside <see cref="Segment"/>.</summary>
    public long Offset { get; }

    /// <summary>The LSN of the record that should be at <see cref="Offset"/>, or 0 when the problem is not a record.</summary>
    public long Lsn { get; }

    /// <summary>
    /// True when opening the log repairs it by truncating a tail that no persisted evidence proves
    /// durable (a torn or zero-filled tail); false when opening refuses or records are lost.
    /// </summary>
    public bool Recoverable { get; }

    /// <summary>A sentence describing the problem.</summary>
    public string Message { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Condition} in {Segment} at offset {Offset}: {Message}";
}
