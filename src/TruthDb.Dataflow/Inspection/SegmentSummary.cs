namespace TruthDb.Dataflow.Inspection;

/// <summary>One segment of a log directory as <see cref="LogInspector"/> read it.</summary>
public sealed class SegmentSummary
{
    internal SegmentSummary(string name, long firstLsn)
    {
        Name = name;
        FirstLsn = firstLsn;
        LastLsn = firstLsn - 1;
    }

    /// <summary>The segment file name.</summary>
    public string Name { get; }

    /// <summary>The LSN of the segment's first record (from its name).</summary>
    public long FirstLsn { get; }

    /// <summary>The LSN of the last valid record in order (<see cref="FirstLsn"/> - 1 when it holds none).</summary>
    public long LastLsn { get; internal set; }

    /// <summary>Valid records, in order from <see cref="FirstLsn"/>.</summary>
    public long Records => LastLsn - FirstLsn + 1;

    /// <summary>The segment size from the header, or 0 when the header is damaged.</summary>
    public long SegmentSize { get; internal set; }

    /// <summary>The file's length in bytes.</summary>
    public long FileLength { get; internal set; }

    /// <summary>The offset just past the last valid frame (4096 when there is none).</summary>
    public long RecordsEnd { get; internal set; }

    /// <summary>True when the segment has a valid seal trailer.</summary>
    public bool IsSealed { get; internal set; }

    /// <summary>The creation time from the header (informational), or null when the header is damaged.</summary>
    public DateTimeOffset? CreatedAt { get; internal set; }

    /// <summary>The log id in the header, as 32 hex digits, or null when the header is damaged.</summary>
    public string? LogId { get; internal set; }

    /// <summary>
    /// The highest LSN known to be durable from this segment alone: its last LSN when sealed, else the
    /// highest synced-LSN field of its valid frames (0 when nothing says).
    /// </summary>
    public long KnownDurableLsn { get; internal set; }
}
