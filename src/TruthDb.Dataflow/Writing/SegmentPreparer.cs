using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Writing;

/// <summary>
/// Prepares the next segment ahead of need, in the background: a <c>.tmp</c> file reserved with
/// fallocate and synced (from then on it is usable), then really written with zeros and synced. A
/// sync into blocks that were already written persists no metadata, so every group commit into a
/// prepared segment costs about half of one that extends a file or converts unwritten extents
/// (docs/durability.md). A full disk shows up here, long before a record needs the space: the
/// writer then refuses appends that need a new segment with a "log full" error instead of
/// half-writing anything.
/// </summary>
/// <remarks>
/// If the log fills a segment faster than the next one can be zero-filled, the writer takes the
/// next one as soon as it is reserved: zero-filling stops after the chunk in flight, and the rest of
/// the segment is written straight into reserved (unwritten) extents, whose syncs cost more but
/// never stall the log behind the zero-fill.
/// Crash points: a <c>prepare-N.tmp</c> file is never part of the log (recovery deletes it). A
/// prepared file becomes a segment in <see cref="Activate"/>: header written and synced, renamed to
/// its segment name, directory synced — only then may a record be written into it.
/// </remarks>
internal sealed class SegmentPreparer(IWalStorage storage, long segmentSize) : IDisposable
{
    private const int ZeroChunk = 1024 * 1024;
    private static readonly byte[] Zeros = new byte[ZeroChunk];
    private static readonly Func<bool> Never = static () => false;
    private static readonly Func<bool> Now = static () => true;

    private int _counter;
    private Task<IStorageFile>? _next;
    private volatile bool _needed;

    /// <summary>Starts preparing the next segment in the background.</summary>
    public void StartNext()
    {
        var id = Interlocked.Increment(ref _counter);
        _needed = false;
        _next = Task.Run(() => Prepare(storage, segmentSize, id, () => _needed));
    }

    /// <summary>
    /// The prepared segment: waits until the background preparation has at least reserved it (and
    /// stops its zero-filling); if it failed because the disk was full, tries once more right away
    /// (space may have been freed since). Throws the disk-full (or any other) <see cref="IOException"/>
    /// when no segment can be had.
    /// </summary>
    public IStorageFile Take()
    {
        var next = _next;
        _next = null;
        _needed = true;
        if (next is not null)
        {
            try
            {
                return next.GetAwaiter().GetResult();
            }
            catch (IOException ex) when (StorageErrors.IsDiskFull(ex))
            {
                // Retried below.
            }
        }

        return Prepare(storage, segmentSize, Interlocked.Increment(ref _counter), Now);
    }

    /// <summary>Waits for a background preparation and deletes what it made.</summary>
    public void Dispose()
    {
        var next = _next;
        _next = null;
        if (next is null)
        {
            return;
        }

        _needed = true;
        try
        {
            var file = next.GetAwaiter().GetResult();
            file.Dispose();
            storage.Delete(file.Name);
        }
        catch (IOException)
        {
            // A preparation that failed left nothing behind (it deletes its own file); a leftover
            // .tmp file is deleted by the next open.
        }
    }

    /// <summary>
    /// Makes a file of <paramref name="size"/> bytes named <c>prepare-N.tmp</c>: reserved and synced,
    /// then zero-filled and synced unless <paramref name="stop"/> says it is needed before that ends.
    /// </summary>
    public static IStorageFile Prepare(IWalStorage storage, long size, int id, Func<bool>? stop = null)
    {
        stop ??= Never;
        var name = SegmentNames.ForPrepared(id);
        storage.Delete(name);
        var file = storage.Create(name);
        try
        {
            file.Allocate(size);
            file.FullSync();
            for (long at = 0; at < size; at += ZeroChunk)
            {
                if (stop())
                {
                    return file;
                }

                file.Write(at, Zeros.AsSpan(0, (int)Math.Min(ZeroChunk, size - at)));
            }

            file.FullSync();
            return file;
        }
        catch
        {
            file.Dispose();
            storage.Delete(name);
            throw;
        }
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
