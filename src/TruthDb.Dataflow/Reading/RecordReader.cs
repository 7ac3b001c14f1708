using System.Diagnostics;
using System.Runtime.CompilerServices;
using TruthDb.Dataflow.LogState;

namespace TruthDb.Dataflow.Reading;

/// <summary>The read loop shared by in-process and cross-process readers.</summary>
internal static class RecordReader
{
    /// <summary>
    /// Starts a read of the records from <paramref name="fromLsn"/> (0: the first the log keeps): the
    /// start is checked now, when the read is asked for, not at the first <c>MoveNextAsync</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Retention removed <paramref name="fromLsn"/> and <see cref="ReadOptions.StartAtFirstAvailable"/> is not set.</exception>
    public static IAsyncEnumerable<WalRecord> Start(IReadSource source, SegmentCatalog catalog, long fromLsn, ReadOptions? options, CancellationToken ct)
    {
        Debug.Assert(fromLsn >= 0, "the caller checks the argument");
        source.BeginRead();
        var segments = source.Segments;
        var first = segments.Length > 0 ? segments[0].FirstLsn : 1;
        if (fromLsn != 0 && fromLsn < first && options?.StartAtFirstAvailable != true)
        {
            throw BelowFirst(fromLsn, first, nameof(fromLsn));
        }

        return ReadAsync(source, catalog, Math.Max(fromLsn, first), options, ct);
    }

    // Reads records from next up to the chosen watermark, following when asked.
    private static async IAsyncEnumerable<WalRecord> ReadAsync(IReadSource source, SegmentCatalog catalog, long next, ReadOptions? options, [EnumeratorCancellation] CancellationToken ct)
    {
        var follow = options?.Follow ?? false;
        var which = options?.Watermark ?? WalWatermark.Durable;
        var limit = source.Watermark(which);
        SegmentCursor? cursor = null;
        try
        {
            while (true)
            {
                while (next <= limit)
                {
                    ct.ThrowIfCancellationRequested();
                    if (source.IsClosed)
                    {
                        throw new ObjectDisposedException("Wal", "The log was closed during the read.");
                    }

                    cursor = SegmentCursor.For(cursor, catalog, source, next);
                    var payload = cursor.Read(next);
                    yield return new WalRecord(next, payload);
                    next++;
                }

                if (source.IsClosed)
                {
                    yield break;
                }

                if (!follow)
                {
                    source.CheckEnd(limit);
                    yield break;
                }

                await source.WaitForChangeAsync(limit, which, ct).ConfigureAwait(false);
                limit = source.Watermark(which);
            }
        }
        finally
        {
            cursor?.Dispose();
        }
    }

    /// <summary>The error for an LSN that retention removed.</summary>
    public static ArgumentOutOfRangeException BelowFirst(long lsn, long first, string paramName) => new(
        paramName,
        lsn,
        $"LSN {lsn} is no longer in the log: retention removed the records below LSN {first} (FirstLsn). Read from FirstLsn, or set ReadOptions.StartAtFirstAvailable.");
}
