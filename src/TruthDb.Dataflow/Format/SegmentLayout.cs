namespace TruthDb.Dataflow.Format;

/// <summary>
/// Where things are inside a segment of a given size: header region, record area, seal trailer.
/// <code>
/// [0, 4096)                      header region (SegmentHeader, then zeros)
/// [4096, size - 24)              record area: frames back to back, then unused bytes
/// [size - 24, size)              seal trailer, written when the segment is sealed
/// </code>
/// </summary>
internal static class SegmentLayout
{
    /// <summary>Offset of the first frame.</summary>
    public const long RecordsStart = SegmentHeader.RegionSize;

    /// <summary>The end of the record area (exclusive): where the seal trailer starts.</summary>
    public static long RecordsEnd(long segmentSize) => segmentSize - FrameCodec.TrailerLength;

    /// <summary>The largest payload a segment of this size can hold.</summary>
    public static long MaxPayload(long segmentSize) =>
        Math.Min(RecordsEnd(segmentSize) - RecordsStart - FrameCodec.HeaderLength, Array.MaxLength - FrameCodec.HeaderLength - FrameCodec.Alignment);
}
