using TruthDb.Dataflow.Format;

namespace TruthDb.Dataflow.LogState;

/// <summary>
/// The segments of an open log as <see cref="IWalReader.GetSegments"/> describes them, for the writer's
/// <see cref="Wal"/> and a <see cref="WalReader"/> alike: from a segment list and the written watermark
/// only, no file read. The watermark must be read before the list: a segment is listed (published, or
/// renamed into place) before any LSN in it is, so a list read afterwards covers the watermark, and
/// LSNs past it (written meanwhile) are left out, so every segment's range is as of that watermark.
/// </summary>
internal static class SegmentSnapshot
{
    /// <summary>
    /// Describes <paramref name="segments"/> (oldest first) as of <paramref name="writtenLsn"/>. Every
    /// segment but the last is sealed (a writer seals one before it starts the next; opening a log
    /// refuses one that is not); <paramref name="lastSealed"/> says for the last, null when not known.
    /// </summary>
    public static WalSegment[] Describe(SegmentInfo[] segments, long writtenLsn, bool? lastSealed)
    {
        var described = new WalSegment[segments.Length];
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            var end = last ? writtenLsn : Math.Min(segments[i + 1].FirstLsn - 1, writtenLsn);
            described[i] = new WalSegment(
                segment.Name,
                segment.FirstLsn,
                Math.Max(end, segment.FirstLsn - 1),
                segment.Size,
                last ? lastSealed : true,
                SegmentHeader.TimeOf(segment.CreatedUnixMs));
        }

        return described;
    }
}
