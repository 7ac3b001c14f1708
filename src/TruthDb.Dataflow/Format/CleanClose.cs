using System.Buffers.Binary;

namespace TruthDb.Dataflow.Format;

/// <summary>
/// The <c>truthdb.clean</c> file: written (atomically) by a clean close after the final sync, saying
/// which log it belongs to and where the records of the last segment end. It is evidence: every LSN up
/// to its last LSN was durable when it was written. The next open reads it and keeps it until recovery
/// has decided (a refused open leaves it, so the next open refuses again); recovery deletes it durably
/// before the log is written again. When it matches what recovery finds, the scan of the rest of the
/// segment for a torn tail is skipped (there can be none: nothing was written after the last sync). A
/// crash leaves no such file, so recovery then scans as usual.
/// <code>
///  0  8  magic "TDBCLN2\n"
///  8 16  log id
/// 24  8  first LSN of the last segment
/// 32  8  last LSN
/// 40  8  offset where the last segment's records end
/// 48  4  CRC-32C of bytes 0..47
/// </code>
/// A note without a log id (magic <c>TDBCLN\r\n</c>, written by earlier versions) is not evidence: it is
/// ignored, and deleted like any note.
/// </summary>
internal static class CleanClose
{
    /// <summary>The file name.</summary>
    public const string FileName = "truthdb.clean";

    private static ReadOnlySpan<byte> Magic => "TDBCLN2\n"u8;

    /// <summary>The file's bytes.</summary>
    public static byte[] Encode(LogId logId, long segmentFirstLsn, long lastLsn, long recordsEnd)
    {
        Span<byte> id = stackalloc byte[LogId.Size];
        logId.Write(id);
        return ChecksummedFields.Encode(Magic,
            [BinaryPrimitives.ReadInt64LittleEndian(id), BinaryPrimitives.ReadInt64LittleEndian(id[8..]), segmentFirstLsn, lastLsn, recordsEnd]);
    }

    /// <summary>Parses the file; null when it is absent, damaged or of an older version (then recovery scans as after a crash).</summary>
    public static Note? TryDecode(ReadOnlySpan<byte> bytes)
    {
        Span<long> values = stackalloc long[5];
        if (!ChecksummedFields.TryDecode(bytes, Magic, values))
        {
            return null;
        }

        Span<byte> id = stackalloc byte[LogId.Size];
        BinaryPrimitives.WriteInt64LittleEndian(id, values[0]);
        BinaryPrimitives.WriteInt64LittleEndian(id[8..], values[1]);
        return new Note(LogId.Read(id), values[2], values[3], values[4]);
    }

    /// <summary>A decoded note.</summary>
    /// <param name="LogId">The log that was closed.</param>
    /// <param name="SegmentFirstLsn">The first LSN of its last segment.</param>
    /// <param name="LastLsn">The last LSN at the close; every LSN up to it was durable.</param>
    /// <param name="RecordsEnd">The offset where the last segment's records ended.</param>
    internal readonly record struct Note(LogId LogId, long SegmentFirstLsn, long LastLsn, long RecordsEnd);
}
