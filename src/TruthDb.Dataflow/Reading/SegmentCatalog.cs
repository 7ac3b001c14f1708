using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Reading;

/// <summary>
/// The segments readers hold. A reader takes a <see cref="SegmentLease"/> for the segment it reads;
/// the first lease maps the file read-only and later ones share the mapping. Retention retires a
/// segment: its file is deleted at once when nobody reads it, otherwise when the last lease is
/// released, so retention never pulls a mapping out from under a live reader. The lock here is
/// taken only when a reader moves to another segment and by retention — never by the writer's
/// append path.
/// </summary>
internal sealed class SegmentCatalog(IWalStorage storage)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, Entry> _entries = [];

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

    /// <summary>Deletes the segment's file now if no reader holds it, otherwise when the last lease is released.</summary>
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

        storage.Delete(segment.Name);
    }

    /// <summary>How many leases are held on the segment starting at <paramref name="firstLsn"/> (for tests and stats).</summary>
    public int LeasesOf(long firstLsn)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(firstLsn, out var entry) ? entry.Leases : 0;
        }
    }

    private void Release(Entry entry)
    {
        lock (_gate)
        {
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
            storage.Delete(entry.Segment.Name);
        }
    }

    internal sealed class Entry(SegmentInfo segment, IMappedFile map)
    {
        public SegmentInfo Segment { get; } = segment;

        public IMappedFile Map { get; } = map;

        public int Leases { get; set; }

        public bool Retired { get; set; }
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
