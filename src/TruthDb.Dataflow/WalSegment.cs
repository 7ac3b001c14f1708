namespace TruthDb.Dataflow;

/// <summary>
/// One segment of a log as the open log knows it (<see cref="IWalReader.GetSegments"/>): from its list
/// of segments, the fields of each segment's header and the written watermark, without reading the
/// segment's frames or trailer. <see cref="Inspection.LogInspector.GetStats"/> reads the files and
/// says more (the file's length, where the records end, whether the seal trailer is there).
/// </summary>
public sealed class WalSegment
{
    /// <summary>Describes a segment.</summary>
    /// <param name="name">The segment's file name (its first LSN as 20 digits, then <c>.wal</c>).</param>
    /// <param name="firstLsn">The LSN of the segment's first record.</param>
    /// <param name="lastLsn">The LSN of its last record; <paramref name="firstLsn"/> - 1 when it holds none.</param>
    /// <param name="segmentSize">The segment's size from its header.</param>
    /// <param name="isSealed">Whether the segment is sealed; null when not known.</param>
    /// <param name="createdAt">When the segment was started (from its header); null when not known.</param>
    public WalSegment(string name, long firstLsn, long lastLsn, long segmentSize, bool? isSealed, DateTimeOffset? createdAt)
    {
        ArgumentNullException.ThrowIfNull(name);
        Name = name;
        FirstLsn = firstLsn;
        LastLsn = lastLsn;
        SegmentSize = segmentSize;
        IsSealed = isSealed;
        CreatedAt = createdAt;
    }

    /// <summary>The segment's file name (its first LSN as 20 digits, then <c>.wal</c>).</summary>
    public string Name { get; }

    /// <summary>The LSN of the segment's first record.</summary>
    public long FirstLsn { get; }

    /// <summary>
    /// The LSN of the segment's last record: the next segment's first LSN - 1, and for the last segment
    /// the written watermark, in both cases never past the written watermark as of the call;
    /// <see cref="FirstLsn"/> - 1 when the segment holds no record.
    /// </summary>
    public long LastLsn { get; }

    /// <summary>The segment's records: <see cref="LastLsn"/> - <see cref="FirstLsn"/> + 1.</summary>
    public long Records => LastLsn - FirstLsn + 1;

    /// <summary>The segment's size in bytes, from its header (the file is preallocated to it).</summary>
    public long SegmentSize { get; }

    /// <summary>
    /// True when the segment is sealed (it takes no more records). Every segment but the last is: the
    /// writer seals a segment before it starts the next, and opening a log refuses one that is not.
    /// The last segment is sealed only when a writer sealed it and crashed before it started the next;
    /// null when not known (a <see cref="WalReader"/> does not read the last segment's trailer).
    /// </summary>
    public bool? IsSealed { get; }

    /// <summary>When the segment was started (from its header; informational); null when the header holds no valid time.</summary>
    public DateTimeOffset? CreatedAt { get; }
}
