namespace TruthDb.Dataflow.Inspection;

/// <summary>The shape of a log directory as <see cref="LogInspector.GetStats"/> read it.</summary>
public sealed class LogStats
{
    internal LogStats(string directory, IReadOnlyList<SegmentSummary> segments, IReadOnlyDictionary<string, long> cursors)
    {
        Directory = directory;
        Segments = segments;
        Cursors = cursors;
        foreach (var segment in segments)
        {
            LogId ??= segment.LogId;
            TotalBytes += segment.FileLength;
            Records += segment.Records;
            if (segment.RecordsEnd > 0)
            {
                RecordBytes += segment.RecordsEnd - Format.SegmentLayout.RecordsStart;
            }

            KnownDurableLsn = Math.Max(KnownDurableLsn, segment.KnownDurableLsn);
        }

        FirstLsn = segments.Count > 0 && segments[^1].LastLsn >= segments[0].FirstLsn ? segments[0].FirstLsn : 0;
        LastLsn = segments.Count > 0 ? Math.Max(segments[^1].LastLsn, 0) : 0;
    }

    /// <summary>The full path of the log directory.</summary>
    public string Directory { get; }

    /// <summary>The log id (32 hex digits) from the first readable segment header, or null.</summary>
    public string? LogId { get; }

    /// <summary>Every segment, oldest first; the last one is the active segment.</summary>
    public IReadOnlyList<SegmentSummary> Segments { get; }

    /// <summary>The first LSN of the log (the first segment's), or 0 when the log holds no record.</summary>
    public long FirstLsn { get; }

    /// <summary>The last LSN on disk: the written watermark as of the read (0 when none).</summary>
    public long LastLsn { get; }

    /// <summary>The highest LSN the files prove durable (a sealed segment, or a frame's synced-LSN field); the durable watermark is at least this.</summary>
    public long KnownDurableLsn { get; }

    /// <summary>
    /// The highest LSN any persisted evidence proves durable: <see cref="KnownDurableLsn"/>, or the
    /// clean-close note or the watermark file's durable LSN (of this log) when they prove more. Above
    /// <see cref="LastLsn"/> only when a record the evidence proves durable is missing or damaged
    /// (<see cref="LogInspector.Verify"/> says where).
    /// </summary>
    public long ProvenDurableLsn { get; internal init; }

    /// <summary>Which evidence proves <see cref="ProvenDurableLsn"/>, in words (empty when nothing does).</summary>
    public string ProvenDurableBy { get; internal init; } = string.Empty;

    /// <summary>Valid records in all segments.</summary>
    public long Records { get; }

    /// <summary>Bytes of all segment files (preallocated space included).</summary>
    public long TotalBytes { get; }

    /// <summary>Bytes of record frames (headers and padding included).</summary>
    public long RecordBytes { get; }

    /// <summary>The durable named cursors whose files are intact, and their committed LSNs.</summary>
    public IReadOnlyDictionary<string, long> Cursors { get; }

    /// <summary>
    /// The cursors whose files are damaged (their committed LSN is unknown), in name order: opening the
    /// log refuses while there is one (<see cref="LogCondition.DamagedCursor"/>).
    /// </summary>
    public IReadOnlyList<string> DamagedCursors { get; internal init; } = [];
}
