namespace TruthDb.Dataflow.Format;

/// <summary>
/// The <c>retention.lsn</c> file: the first LSN retention keeps. Written (atomically) before any
/// segment is deleted, so recovery can tell the leftovers of an interrupted retention (segments
/// that end below it: deleted again) from a missing segment (corruption).
/// <code>
///  0  8  magic "TDBRET\r\n"
///  8  8  first retained LSN
/// 16  4  CRC-32C of bytes 0..15
/// </code>
/// </summary>
internal static class RetentionPoint
{
    /// <summary>The file name.</summary>
    public const string FileName = "retention.lsn";

    private static ReadOnlySpan<byte> Magic => "TDBRET\r\n"u8;

    /// <summary>The file's bytes for <paramref name="firstRetainedLsn"/>.</summary>
    public static byte[] Encode(long firstRetainedLsn) => ChecksummedFields.Encode(Magic, [firstRetainedLsn]);

    /// <summary>Parses the file; false when it is damaged.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out long firstRetainedLsn)
    {
        Span<long> values = stackalloc long[1];
        var valid = ChecksummedFields.TryDecode(bytes, Magic, values);
        firstRetainedLsn = values[0];
        return valid && firstRetainedLsn > 0;
    }
}
