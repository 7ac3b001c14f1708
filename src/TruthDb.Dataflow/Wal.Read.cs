using System.Runtime.CompilerServices;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Reading;

namespace TruthDb.Dataflow;

/// <summary>The read path: records up to a published watermark, optionally following new ones.</summary>
public sealed partial class Wal
{
    /// <summary>
    /// The records with LSN ≥ <paramref name="fromLsn"/>, in LSN order. By default the read ends at the
    /// durable watermark as it was when the read started; <see cref="ReadOptions.Watermark"/> picks the
    /// written one instead, and <see cref="ReadOptions.Follow"/> keeps waiting for new records until
    /// <paramref name="ct"/> is cancelled or the log is disposed. A record is never returned above the
    /// chosen watermark. Segments are memory-mapped: each <see cref="WalRecord.Payload"/> points into
    /// the mapping and is valid until the enumerator moves on. A reader never blocks the writer.
    /// </summary>
    /// <param name="fromLsn">The first LSN wanted; 0 reads from the first record still in the log.</param>
    /// <param name="options">Follow and watermark; defaults to a snapshot up to the durable watermark.</param>
    /// <param name="ct">Ends the read (a following read ends only this way or by disposal).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromLsn"/> is negative, or below
    /// <see cref="FirstLsn"/> (retention removed it) without <see cref="ReadOptions.StartAtFirstAvailable"/>.</exception>
    /// <exception cref="WalCorruptedException">A frame below the watermark is damaged (names segment and offset).</exception>
    public IAsyncEnumerable<WalRecord> ReadAsync(long fromLsn, ReadOptions? options = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromLsn);
        ObjectDisposedException.ThrowIf(_watermarks.IsClosed, this);
        var first = _writer.Segments[0].FirstLsn;
        if (fromLsn != 0 && fromLsn < first && options?.StartAtFirstAvailable != true)
        {
            throw BelowFirst(fromLsn, first, nameof(fromLsn));
        }

        return ReadCoreAsync(Math.Max(fromLsn, first), options, ct);
    }

    private static ArgumentOutOfRangeException BelowFirst(long lsn, long first, string paramName) => new(
        paramName,
        lsn,
        $"LSN {lsn} is no longer in the log: retention removed the records below LSN {first} (FirstLsn). Read from FirstLsn, or set ReadOptions.StartAtFirstAvailable.");

    private async IAsyncEnumerable<WalRecord> ReadCoreAsync(long next, ReadOptions? options, [EnumeratorCancellation] CancellationToken ct)
    {
        var follow = options?.Follow ?? false;
        var useWritten = options?.Watermark == WalWatermark.Written;
        var limit = useWritten ? WrittenLsn : DurableLsn;
        SegmentCursor? cursor = null;
        try
        {
            while (true)
            {
                while (next <= limit)
                {
                    ct.ThrowIfCancellationRequested();
                    ObjectDisposedException.ThrowIf(_watermarks.IsClosed, this);
                    cursor = SegmentCursor.For(cursor, _catalog, _writer, next);
                    var payload = cursor.Read(next);
                    yield return new WalRecord(next, payload);
                    next++;
                }

                if (!follow)
                {
                    yield break;
                }

                var changed = _watermarks.NextChange();
                var now = useWritten ? WrittenLsn : DurableLsn;
                if (now > limit)
                {
                    limit = now;
                    continue;
                }

                if (_watermarks.IsClosed)
                {
                    yield break;
                }

                await changed.WaitAsync(ct).ConfigureAwait(false);
                limit = useWritten ? WrittenLsn : DurableLsn;
            }
        }
        finally
        {
            cursor?.Dispose();
        }
    }

    /// <summary>A reader positioned inside one leased, mapped segment; moves on when the LSN asks for it.</summary>
    private sealed class SegmentCursor : IDisposable
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
        public static SegmentCursor For(SegmentCursor? current, SegmentCatalog catalog, Writing.LogWriter writer, long lsn)
        {
            var segments = writer.Segments;
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
                throw BelowFirst(lsn, segments[0].FirstLsn, nameof(lsn));
            }

            var nextFirst = at + 1 < segments.Length ? segments[at + 1].FirstLsn : long.MaxValue;
            var cursor = new SegmentCursor(catalog.Acquire(segments[at]), nextFirst, writer.LogId.Seed);
            if (lsn > segments[at].FirstLsn)
            {
                cursor.Seek(catalog, writer.ActiveIndex, lsn);
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
}
