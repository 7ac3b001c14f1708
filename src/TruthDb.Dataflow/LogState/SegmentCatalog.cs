using System.Diagnostics;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.LogState;

/// <summary>
/// The segments readers hold. A reader takes a <see cref="SegmentLease"/> for the segment it reads;
/// the first lease maps the file read-only and later ones share the mapping. Retention retires a
/// segment: its file is deleted at once when nobody reads it, otherwise when the last lease is
/// released, so retention never pulls a mapping out from under a live reader. The lock here is
/// taken only when a reader moves to another segment and by retention — never by the writer's
/// append path. A read-only catalog (a reader in another process) never writes or deletes a file.
/// </summary>
internal sealed class SegmentCatalog(IWalStorage storage, uint seed, bool readOnly = false)
{
    private readonly Lock _gate = new();
    private readonly Lock _sidecars = new();
    private readonly Dictionary<long, Entry> _entries = [];
    private readonly List<Task> _indexWrites = [];

    /// <summary>Leases <paramref name="segment"/>, mapping it if no reader has it mapped.</summary>
    public SegmentLease Acquire(SegmentInfo segment)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(segment.FirstLsn, out var entry))
            {
                entry = new Entry(segment, storage.MapReadOnly(segment.Name));
                _entries.Add(segment.FirstLsn, entry);
            }

            entry.Leases++;
            return new SegmentLease(this, entry);
        }
    }

    /// <summary>Deletes the segment's file (and index) now if no reader holds it, otherwise when the last lease is released.</summary>
    public void Retire(SegmentInfo segment)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(segment.FirstLsn, out var entry))
            {
                entry.Retired = true;
                return;
            }
        }

        Delete(segment);
    }

    /// <summary>
    /// Writes the sparse index of a segment that was just sealed, in the background (off the writer's
    /// path: nobody waits for it but <see cref="IndexWritesDone"/>). Losing it costs nothing but a scan:
    /// a missing or damaged index is rebuilt.
    /// </summary>
    public void PersistIndex(SegmentInfo segment, SparseIndex index)
    {
        var write = Task.Run(() => WriteIndex(segment, index));
        lock (_indexWrites)
        {
            _indexWrites.RemoveAll(static t => t.IsCompleted);
            _indexWrites.Add(write);
        }
    }

    /// <summary>Completes once every index write started so far has ended: the log awaits it when it closes, before it lets go of the directory.</summary>
    public Task IndexWritesDone()
    {
        lock (_indexWrites)
        {
            return Task.WhenAll(_indexWrites);
        }
    }

    /// <summary>
    /// The sparse index of a sealed segment whose last record is <paramref name="lastLsn"/>: the
    /// sidecar if it is intact, otherwise rebuilt by scanning the mapping (and written back).
    /// </summary>
    public SparseIndex IndexOf(SegmentLease lease, long lastLsn)
    {
        var entry = lease.Entry;
        var index = entry.Index;
        if (index is not null)
        {
            return index;
        }

        var segment = entry.Segment;
        var bytes = AtomicFile.Read(storage, SparseIndex.FileName(segment.FirstLsn));
        if (bytes is null || !SparseIndex.TryDecode(bytes, segment.FirstLsn, segment.Size, out index))
        {
            index = SparseIndex.Build(entry.Map.Bytes.Span, seed, segment.FirstLsn, lastLsn);
            if (!readOnly)
            {
                WriteIndex(segment, index);
            }
        }

        entry.Index = index;
        return index;
    }

    private void Release(Entry entry)
    {
        lock (_gate)
        {
            Debug.Assert(entry.Leases > 0, "a lease is released once");
            if (--entry.Leases > 0)
            {
                return;
            }

            _entries.Remove(entry.Segment.FirstLsn);
        }

        entry.Map.Dispose();
        if (entry.Retired)
        {
            // A crash before this delete leaves a file that recovery removes (it is below the
            // persisted retention point).
            Delete(entry.Segment);
        }
    }

    private void Delete(SegmentInfo segment)
    {
        storage.Delete(segment.Name);
        lock (_sidecars)
        {
            storage.Delete(SparseIndex.FileName(segment.FirstLsn));
        }
    }

    private void WriteIndex(SegmentInfo segment, SparseIndex index)
    {
        try
        {
            lock (_sidecars)
            {
                AtomicFile.Write(storage, SparseIndex.FileName(segment.FirstLsn), index.Encode());
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the next reader that needs the index rebuilds it.
        }
    }

    internal sealed class Entry(SegmentInfo segment, IMappedFile map)
    {
        public SegmentInfo Segment { get; } = segment;

        public IMappedFile Map { get; } = map;

        public int Leases { get; set; }

        public bool Retired { get; set; }

        private SparseIndex? _index;

        /// <summary>The segment's sparse index, once a reader needed it.</summary>
        public SparseIndex? Index
        {
            get => Volatile.Read(ref _index);
            set => Volatile.Write(ref _index, value);
        }
    }

    /// <summary>A reader's hold on one segment's mapping; dispose to release it.</summary>
    internal sealed class SegmentLease : IDisposable
    {
        private readonly SegmentCatalog _owner;
        private Entry? _entry;

        public SegmentLease(SegmentCatalog owner, Entry entry)
        {
            _owner = owner;
            _entry = entry;
        }

        /// <summary>The segment.</summary>
        public SegmentInfo Segment => _entry!.Segment;

        /// <summary>The catalog entry (for the index cache).</summary>
        public Entry Entry => _entry!;

        /// <summary>The whole segment file, mapped read-only.</summary>
        public ReadOnlyMemory<byte> Bytes => _entry!.Map.Bytes;

        public void Dispose()
        {
            var entry = Interlocked.Exchange(ref _entry, null);
            if (entry is not null)
            {
                _owner.Release(entry);
            }
        }
    }
}
