namespace TruthDb.Dataflow.Format;

/// <summary>A segment of the log as the writer and readers know it.</summary>
/// <param name="FirstLsn">The LSN of the segment's first record (and its file name).</param>
/// <param name="Size">The segment's size from its header.</param>
/// <param name="CreatedUnixMs">When the segment was activated (from its header): every record before it is older.</param>
internal sealed record SegmentInfo(long FirstLsn, long Size, long CreatedUnixMs = 0)
{
    /// <summary>The segment's file name.</summary>
    public string Name { get; } = SegmentNames.ForSegment(FirstLsn);
}
