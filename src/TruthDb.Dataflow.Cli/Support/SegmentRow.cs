using TruthDb.Dataflow.Inspection;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>
/// One segment as <c>stats</c> and <c>verify</c> print it, whatever told it: the files
/// (<see cref="SegmentSummary"/>, everything known) or a server (<see cref="WalSegment"/>, what the
/// served log knows: no file length, no end of records, and on a read-only server not the last
/// segment's seal). A value not known is null, printed as <c>?</c> and as JSON <c>null</c>.
/// </summary>
internal sealed record SegmentRow(
    string Name,
    long FirstLsn,
    long LastLsn,
    long Records,
    long SegmentSize,
    long? FileLength,
    long? RecordsEnd,
    bool? IsSealed,
    DateTimeOffset? CreatedAt)
{
    // Records start after the header's region (docs/format.md).
    private const long RecordsStart = 4096;

    /// <summary>The bytes of record frames in the segment, when where they end is known.</summary>
    public long? UsedBytes => RecordsEnd is { } end ? Math.Max(end - RecordsStart, 0) : null;

    /// <summary>The segments as the files hold them.</summary>
    public static List<SegmentRow> Of(IReadOnlyList<SegmentSummary> segments) =>
        [.. segments.Select(static s => new SegmentRow(s.Name, s.FirstLsn, s.LastLsn, s.Records, s.SegmentSize, s.FileLength, s.RecordsEnd, s.IsSealed, s.CreatedAt))];

    /// <summary>The segments as a served log knows them.</summary>
    public static List<SegmentRow> Of(IReadOnlyList<WalSegment> segments) =>
        [.. segments.Select(static s => new SegmentRow(s.Name, s.FirstLsn, s.LastLsn, s.Records, s.SegmentSize, null, null, s.IsSealed, s.CreatedAt))];
}
