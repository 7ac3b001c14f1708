using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.LogState;

/// <summary>
/// How a segment file comes to be, for recovery (the first segment of a new log) and for the writer
/// (every segment after it): prepared under a temporary name, then activated.
/// </summary>
/// <remarks>
/// Crash points: a <c>prepare-N.tmp</c> file is never part of the log (recovery deletes it). A
/// prepared file becomes a segment in <see cref="Activate"/>: header written and synced, renamed to
/// its segment name, directory synced — only then may a record be written into it.
/// </remarks>
internal static class SegmentFiles
{
    private const int FillChunk = 1024 * 1024;
    private static readonly byte[] Zeros = new byte[FillChunk];
    private static readonly Func<bool> Never = static () => false;

    /// <summary>
    /// Makes a file of <paramref name="size"/> bytes named <c>prepare-N.tmp</c>: reserved (fallocate) and
    /// synced, from then on usable; then, unless <paramref name="stop"/> says to stop first (it is asked
    /// before each 1 MiB chunk), either zero-filled and synced (<paramref name="zeroFill"/>) or only
    /// brought into the page cache. A sync into blocks that were already written persists no metadata,
    /// so every group commit into a zero-filled segment costs about half of one into reserved
    /// (unwritten) extents (docs/durability.md). Without the zero-fill, the cached pages spare the
    /// writer the kernel's zeroing of every new page its small writes touch (about a third of the
    /// writer thread's time under <see cref="Durability.Written"/>, docs/performance.md), at no disk IO.
    /// Deletes what it made when it fails.
    /// </summary>
    public static IStorageFile Prepare(IWalStorage storage, long size, int id, bool zeroFill, Func<bool>? stop = null)
    {
        stop ??= Never;
        var name = SegmentNames.ForPrepared(id);
        storage.Delete(name);
        var file = storage.Create(name);
        try
        {
            file.Allocate(size);
            file.FullSync();
            for (long at = 0; at < size; at += FillChunk)
            {
                var length = (int)Math.Min(FillChunk, size - at);
                if (stop() || (!zeroFill && !file.WarmCache(at, length)))
                {
                    return file;
                }

                if (zeroFill)
                {
                    file.Write(at, Zeros.AsSpan(0, length));
                }
            }

            if (zeroFill)
            {
                file.FullSync();
            }

            return file;
        }
        catch
        {
            Discard(storage, file);
            throw;
        }
    }

    /// <summary>Closes and deletes a prepared file that will not become a segment.</summary>
    public static void Discard(IWalStorage storage, IStorageFile prepared)
    {
        prepared.Dispose();
        storage.Delete(prepared.Name);
    }

    /// <summary>
    /// Turns a prepared file into the segment described by <paramref name="header"/>: header written and
    /// synced, file renamed to the segment name, directory synced. Records may be written only after this.
    /// </summary>
    public static void Activate(IWalStorage storage, IStorageFile prepared, SegmentHeader header)
    {
        Span<byte> bytes = stackalloc byte[SegmentHeader.Length];
        header.Write(bytes);
        prepared.Write(0, bytes);
        prepared.DataSync();
        storage.Rename(prepared.Name, SegmentNames.ForSegment(header.FirstLsn));
        storage.SyncDirectory();
    }
}
