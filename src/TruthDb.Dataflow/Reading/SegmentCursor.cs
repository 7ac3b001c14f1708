using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.LogState;

namespace TruthDb.Dataflow.Reading;

/// <summary>A reader positioned inside one leased, mapped segment; moves on when the LSN asks for it.</summary>
internal sealed class SegmentCursor : IDisposable
{
    private readonly SegmentCatalog.SegmentLease _lease;
    private readonly uint _seed;
    private readonly long _recordsEnd;
    private long _nextSegmentFirstLsn;
    private long _offset = SegmentLayout.RecordsStart;
    private long _expected;
    private bool _seeked;

    private SegmentCursor(SegmentCatalog.SegmentLease lease, long nextSegmentFirstLsn, uint seed)
    {
        _lease = lease;
        _seed = seed;
        _nextSegmentFirstLsn = nextSegmentFirstLsn;
        _recordsEnd = SegmentLayout.RecordsEnd(lease.Segment.Size);
        _expected = lease.Segment.FirstLsn;
    }

    // Keeps the current cursor when it holds lsn; otherwise leases the segment that does and
    // seeks with its sparse index.
    public static SegmentCursor For(SegmentCursor? current, SegmentCatalog catalog, IReadSource source, long lsn)
    {
        var segments = source.Segments;
        if (current is not null && current._nextSegmentFirstLsn == long.MaxValue)
        {
            // Leased as the last segment: the writer may have rolled since.
            var index = Find(segments, current._lease.Segment.FirstLsn);
            current._nextSegmentFirstLsn = index >= 0 && index + 1 < segments.Length ? segments[index + 1].FirstLsn : long.MaxValue;
        }

        if (current is not null && lsn >= current._lease.Segment.FirstLsn && lsn < current._nextSegmentFirstLsn)
        {
            return current;
        }

        current?.Dispose();
        var at = Find(segments, lsn);
        if (at < 0)
        {
            // Retention removed the segment while this reader was on its way to it.
            throw RecordReader.BelowFirst(lsn, segments[0].FirstLsn, nameof(lsn));
        }

        var nextFirst = at + 1 < segments.Length ? segments[at + 1].FirstLsn : long.MaxValue;
        var cursor = new SegmentCursor(catalog.Acquire(segments[at]), nextFirst, source.Seed);
        if (lsn > segments[at].FirstLsn)
        {
            cursor.Seek(catalog, source.ActiveIndex, lsn);
        }

        return cursor;
    }

    // Starts decoding at the closest index entry at or below lsn: the writer's live index for the
    // active segment, the segment's own (sidecar, or rebuilt by a scan) for a sealed one.
    private void Seek(SegmentCatalog catalog, SparseIndex active, long lsn)
    {
        var index = active.FirstLsn == _lease.Segment.FirstLsn
            ? active
            : catalog.IndexOf(_lease, _nextSegmentFirstLsn == long.MaxValue ? long.MaxValue : _nextSegmentFirstLsn - 1);
        (_expected, _offset) = index.Seek(lsn);
        _seeked = _offset != SegmentLayout.RecordsStart;
    }

    // Decodes forward to lsn (at or below the watermark, so every frame on the way must be valid).
    public ReadOnlyMemory<byte> Read(long lsn)
    {
        var bytes = _lease.Bytes;
        while (true)
        {
            var status = FrameCodec.TryDecode(bytes.Span[(int)_offset..], _recordsEnd - _offset, _seed, _expected, out var frame);
            if (status != FrameStatus.Success && _seeked)
            {
                // The index led somewhere wrong (it is checksummed, so this is a bug, never data
                // loss): read the segment from its start instead.
                (_expected, _offset, _seeked) = (_lease.Segment.FirstLsn, SegmentLayout.RecordsStart, false);
                continue;
            }

            if (status != FrameStatus.Success)
            {
                throw new WalCorruptedException(_lease.Segment.Name, _offset,
                    $"the frame of LSN {_expected}, which was acknowledged, cannot be read: {status}");
            }

            var payloadStart = (int)_offset + frame.PayloadOffset;
            _offset += frame.FrameLength;
            _expected++;
            if (frame.Lsn == lsn)
            {
                return bytes.Slice(payloadStart, frame.PayloadLength);
            }
        }
    }

    public void Dispose() => _lease.Dispose();

    // The last segment whose first LSN is ≤ lsn (binary search over the names' LSNs); -1 if none.
    private static int Find(SegmentInfo[] segments, long lsn)
    {
        int lo = 0, hi = segments.Length - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (segments[mid].FirstLsn <= lsn)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }
}
