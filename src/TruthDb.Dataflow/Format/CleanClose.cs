namespace TruthDb.Dataflow.Format;

/// <summary>
/// The <c>truthdb.clean</c> file: written (atomically) by a clean close after the final sync, saying
/// where the records of the last segment end. The next open reads it, deletes it durably before it
/// writes anything, and when it matches what it finds, skips scanning the rest of the segment for a
/// torn tail (there can be none: nothing was written after the last sync). A crash leaves no such
/// file, so recovery then scans as usual.
/// <code>
///  0  8  magic "TDBCLN\r\n"
///  8  8  first LSN of the last segment
/// 16  8  last LSN
/// 24  8  offset where the last segment's records end
/// 32  4  CRC-32C of bytes 0..31
/// </code>
/// </summary>
internal static class CleanClose
{
    /// <summary>The file name.</summary>
    public const string FileName = "truthdb.clean";

    private static ReadOnlySpan<byte> Magic => "TDBCLN\r\n"u8;

    /// <summary>The file's bytes.</summary>
    public static byte[] Encode(long segmentFirstLsn, long lastLsn, long recordsEnd) =>
        ChecksummedFields.Encode(Magic, [segmentFirstLsn, lastLsn, recordsEnd]);

    /// <summary>Parses the file; null when it is absent or damaged (then recovery scans as after a crash).</summary>
    public static (long SegmentFirstLsn, long LastLsn, long RecordsEnd)? TryDecode(ReadOnlySpan<byte> bytes)
    {
        Span<long> values = stackalloc long[3];
        return ChecksummedFields.TryDecode(bytes, Magic, values) ? (values[0], values[1], values[2]) : null;
    }
}
