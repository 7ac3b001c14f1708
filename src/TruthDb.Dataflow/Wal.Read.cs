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
        return RecordReader.Start(_readSource, _catalog, fromLsn, options, ct);
    }
}
