using System.Buffers.Binary;

namespace TruthDb.Dataflow.Format;

/// <summary>
/// The layout of <c>truthdb.watermarks</c>: the writer's published watermarks, mirrored into a small
/// file that readers in other processes (which must not take the writer's lock) map to know how far
/// they may read. It is not a durability file: the writer syncs it only when it creates it, and after
/// a crash it may lag (never lead) what recovery finds.
/// <code>
///  0  8  magic "TDBWMK\r\n"
///  8 16  log id
/// 24  8  written LSN
/// 32  8  durable LSN
/// 40  8  1 while a writer has the log open, 0 after it closed
/// </code>
/// The LSN words are 8-byte aligned, each stored with one 8-byte write, written LSN before durable
/// LSN (so a reader that reads durable first, then written, never sees durable &gt; written), each
/// after the data it covers.
/// </summary>
internal static class WatermarkMirror
{
    /// <summary>The file name.</summary>
    public const string FileName = "truthdb.watermarks";

    /// <summary>The file size (one page).</summary>
    public const int Size = 4096;

    /// <summary>Offset of the written LSN.</summary>
    public const int WrittenOffset = 24;

    /// <summary>Offset of the durable LSN.</summary>
    public const int DurableOffset = 32;

    /// <summary>Offset of the open flag.</summary>
    public const int OpenOffset = 40;

    private static ReadOnlySpan<byte> Magic => "TDBWMK\r\n"u8;

    /// <summary>The initial contents for a log.</summary>
    public static byte[] Create(LogId logId, long written, long durable)
    {
        var bytes = new byte[Size];
        Magic.CopyTo(bytes);
        logId.Write(bytes.AsSpan(8));
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(WrittenOffset), written);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(DurableOffset), durable);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(OpenOffset), 1);
        return bytes;
    }

    /// <summary>True when <paramref name="bytes"/> is a mirror of the log <paramref name="logId"/>.</summary>
    public static bool Matches(ReadOnlySpan<byte> bytes, LogId logId) =>
        bytes.Length >= Size && bytes[..8].SequenceEqual(Magic) && LogId.Read(bytes[8..]).Equals(logId);
}
