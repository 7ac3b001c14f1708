using System.Runtime.CompilerServices;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow;

/// <summary>The read path: records up to a published watermark, optionally following new ones.</summary>
public sealed partial class Wal
{
    /// <summary>
    /// The records with LSN ≥ <paramref name="fromLsn"/>, in LSN order. By default the read ends at the
    /// durable watermark as it was when the read started; <see cref="ReadOptions.Watermark"/> picks the
    /// written one instead, and <see cref="ReadOptions.Follow"/> keeps waiting for new records until
    /// <paramref name="ct"/> is cancelled or the log is disposed. A record is never returned above the
    /// chosen watermark. Each <see cref="WalRecord.Payload"/> is valid until the enumerator moves on.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromLsn"/> is negative.</exception>
    /// <exception cref="WalCorruptedException">A frame below the watermark is damaged (names segment and offset).</exception>
    public IAsyncEnumerable<WalRecord> ReadAsync(long fromLsn, ReadOptions? options = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromLsn);
        ObjectDisposedException.ThrowIf(_watermarks.IsClosed, this);
        return ReadCoreAsync(fromLsn, options, ct);
    }

    private async IAsyncEnumerable<WalRecord> ReadCoreAsync(long fromLsn, ReadOptions? options, [EnumeratorCancellation] CancellationToken ct)
    {
        var follow = options?.Follow ?? false;
        var useWritten = options?.Watermark == WalWatermark.Written;
        var limit = useWritten ? WrittenLsn : DurableLsn;
        var next = Math.Max(fromLsn, _writer.Segments[0].FirstLsn);
        SegmentCursor? cursor = null;
        try
        {
            while (true)
            {
                while (next <= limit)
                {
                    ct.ThrowIfCancellationRequested();
                    ObjectDisposedException.ThrowIf(_watermarks.IsClosed, this);
                    cursor = SegmentCursor.For(cursor, _storage, _writer.Segments, _writer.LogId.Seed, next);
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

    /// <summary>A reader positioned inside one segment; moves to the next segment when the LSN asks for it.</summary>
    private sealed class SegmentCursor : IDisposable
    {
        private readonly IStorageFile _file;
        private readonly FrameReader _frames;
        private readonly SegmentInfo _segment;
        private long _nextSegmentFirstLsn;

        private SegmentCursor(IStorageFile file, SegmentInfo segment, long nextSegmentFirstLsn, uint seed)
        {
            _file = file;
            _segment = segment;
            _nextSegmentFirstLsn = nextSegmentFirstLsn;
            _frames = new FrameReader(file, seed, SegmentLayout.RecordsStart, SegmentLayout.RecordsEnd(segment.Size), segment.FirstLsn);
        }

        // Keeps the current cursor when it holds lsn; otherwise opens the segment that does.
        public static SegmentCursor For(SegmentCursor? current, IWalStorage storage, SegmentInfo[] segments, uint seed, long lsn)
        {
            if (current is not null && current._nextSegmentFirstLsn == long.MaxValue)
            {
                // Opened as the last segment: the writer may have rolled since.
                var index = Find(segments, current._segment.FirstLsn);
                current._nextSegmentFirstLsn = index + 1 < segments.Length ? segments[index + 1].FirstLsn : long.MaxValue;
            }

            if (current is not null && lsn >= current._segment.FirstLsn && lsn < current._nextSegmentFirstLsn)
            {
                return current;
            }

            current?.Dispose();
            var at = Find(segments, lsn);
            var segment = segments[at];
            var nextFirst = at + 1 < segments.Length ? segments[at + 1].FirstLsn : long.MaxValue;
            var file = storage.Open(segment.Name, writable: false);
            return new SegmentCursor(file, segment, nextFirst, seed);
        }

        // Reads forward to lsn (which is at or below the watermark, so every frame on the way must be valid).
        public ReadOnlyMemory<byte> Read(long lsn)
        {
            while (true)
            {
                var status = _frames.Next();
                if (status != FrameStatus.Success)
                {
                    throw new WalCorruptedException(_segment.Name, _frames.Offset,
                        $"the frame of LSN {_frames.ExpectedLsn}, which was acknowledged, cannot be read: {status}");
                }

                if (_frames.Current.Lsn == lsn)
                {
                    return _frames.CurrentPayloadMemory;
                }
            }
        }

        public void Dispose()
        {
            _frames.Dispose();
            _file.Dispose();
        }

        // The last segment whose first LSN is ≤ lsn (binary search over the names' LSNs).
        private static int Find(SegmentInfo[] segments, long lsn)
        {
            int lo = 0, hi = segments.Length - 1;
            while (lo < hi)
            {
                var mid = (lo + hi + 1) / 2;
                if (segments[mid].FirstLsn <= lsn)
                {
                    lo = mid;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return lo;
        }
    }
}
