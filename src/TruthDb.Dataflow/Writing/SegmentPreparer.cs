using System.Diagnostics;
using TruthDb.Dataflow.LogState;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Threading;

namespace TruthDb.Dataflow.Writing;

/// <summary>
/// Prepares the next segment ahead of need, on a dedicated thread of its own
/// (<see cref="ThreadName"/>): a <c>.tmp</c> file reserved with fallocate and synced (from then on it
/// is usable), then really written with zeros and synced. A sync into blocks that were already written
/// persists no metadata, so every group commit into a prepared segment costs about half of one that
/// extends a file or converts unwritten extents (docs/durability.md). A full disk shows up here, long
/// before a record needs the space: the writer then refuses appends that need a new segment with a
/// "log full" error instead of half-writing anything.
/// </summary>
/// <remarks>
/// The preparation runs on its own thread, never on the thread pool: when the writer needs the segment
/// before it is ready, it waits for the preparer, and a busy or starved pool must not hold the log
/// (the writer thread depends on no pool thread; <see cref="DedicatedThreadScheduler"/>).
/// Without zero-filling (<see cref="Durability.Written"/>, whose syncs are rare) a segment is only
/// reserved: zero-filling would double the bytes the log writes, and cost about as much CPU time as
/// the appends themselves (perf record), for the few syncs a flush interval asks for. Its pages are
/// brought into the page cache instead (no disk IO), so that the writer's small writes do not have
/// the kernel zero each new page on the writer thread.
/// If the log fills a segment faster than the next one can be zero-filled, the writer takes the
/// next one as soon as it is reserved: zero-filling stops after the chunk in flight, and the rest of
/// the segment is written straight into reserved (unwritten) extents, whose syncs cost more but
/// never stall the log behind the zero-fill.
/// Crash points: see <see cref="SegmentFiles"/>.
/// </remarks>
internal sealed class SegmentPreparer : IDisposable
{
    /// <summary>The name of the preparer's thread.</summary>
    public const string ThreadName = "TruthDb.Dataflow.Preparer";

    private static readonly Func<bool> Now = static () => true;

    private readonly IWalStorage _storage;
    private readonly long _segmentSize;
    private readonly bool _zeroFill;
    private readonly DedicatedThreadScheduler _thread = new(ThreadName);
    private int _counter;
    private Task<IStorageFile>? _next;
    private volatile bool _needed;

    /// <summary>
    /// A preparer of segments of <paramref name="segmentSize"/> bytes in <paramref name="storage"/>,
    /// zero-filled when <paramref name="zeroFill"/>, or only reserved and brought into the page cache; starts its thread.
    /// </summary>
    public SegmentPreparer(IWalStorage storage, long segmentSize, bool zeroFill)
    {
        _storage = storage;
        _segmentSize = segmentSize;
        _zeroFill = zeroFill;
    }

    /// <summary>Starts preparing the next segment on the preparer's thread.</summary>
    public void StartNext()
    {
        Debug.Assert(_next is null, "one preparation at a time: the previous one was taken");
        var id = Interlocked.Increment(ref _counter);
        _needed = false;
        _next = Task.Factory.StartNew(
            () => SegmentFiles.Prepare(_storage, _segmentSize, id, _zeroFill, () => _needed), CancellationToken.None, TaskCreationOptions.None, _thread);
    }

    /// <summary>
    /// The prepared segment: waits until the preparation has at least reserved it (and stops its
    /// zero-filling or cache warming); if it failed because the disk was full, tries once more right away (space may have
    /// been freed since). Throws the disk-full (or any other) <see cref="IOException"/> when no segment
    /// can be had.
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

        return SegmentFiles.Prepare(_storage, _segmentSize, Interlocked.Increment(ref _counter), _zeroFill, Now);
    }

    /// <summary>Waits for a preparation in flight (its filling stopped), deletes what it made, and ends the thread.</summary>
    public void Dispose()
    {
        var next = _next;
        _next = null;
        _needed = true;
        try
        {
            if (next is not null)
            {
                SegmentFiles.Discard(_storage, next.GetAwaiter().GetResult());
            }
        }
        catch (IOException)
        {
            // A preparation that failed left nothing behind (it deletes its own file); a leftover
            // .tmp file is deleted by the next open.
        }
        finally
        {
            _thread.Dispose();
        }
    }
}
