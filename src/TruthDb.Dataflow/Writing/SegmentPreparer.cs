using TruthDb.Dataflow.LogState;
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
/// Crash points: see <see cref="SegmentFiles"/>.
/// </remarks>
internal sealed class SegmentPreparer(IWalStorage storage, long segmentSize) : IDisposable
{
    private static readonly Func<bool> Now = static () => true;

    private int _counter;
    private Task<IStorageFile>? _next;
    private volatile bool _needed;

    /// <summary>Starts preparing the next segment in the background.</summary>
    public void StartNext()
    {
        var id = Interlocked.Increment(ref _counter);
        _needed = false;
        _next = Task.Run(() => SegmentFiles.Prepare(storage, segmentSize, id, () => _needed));
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

        return SegmentFiles.Prepare(storage, segmentSize, Interlocked.Increment(ref _counter), Now);
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
}
