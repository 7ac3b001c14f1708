using TruthDb.Dataflow.Format;

namespace TruthDb.Dataflow.Reading;

/// <summary>
/// What a read needs from a log: its segments, the active segment's sparse index, its checksum seed,
/// the published watermarks, and a way to wait for them to move. Implemented by the writing
/// <see cref="Wal"/> (in-process signal) and by <see cref="Dataflow.WalReader"/> (another process, through the
/// shared watermark mirror).
/// </summary>
internal interface IReadSource
{
    /// <summary>The segments, oldest first.</summary>
    SegmentInfo[] Segments { get; }

    /// <summary>The active segment's index (its <see cref="SparseIndex.FirstLsn"/> says which segment), if known.</summary>
    SparseIndex ActiveIndex { get; }

    /// <summary>The log's checksum seed.</summary>
    uint Seed { get; }

    /// <summary>A read is starting: a source that looks at the files (another process's log) looks again now.</summary>
    void BeginRead();

    /// <summary>True once no more records can come (the source was closed).</summary>
    bool IsClosed { get; }

    /// <summary>The watermark a read may go up to.</summary>
    long Watermark(WalWatermark which);

    /// <summary>
    /// Called when a read that does not follow has read every record up to <paramref name="limit"/>
    /// (<see cref="Watermark"/> when it started): throws when the source knows records after it exist
    /// but cannot be read, so that a read never ends quietly at damage.
    /// </summary>
    void CheckEnd(long limit);

    /// <summary>Completes when <see cref="Watermark"/> may have passed <paramref name="seen"/>, or the source closed.</summary>
    Task WaitForChangeAsync(long seen, WalWatermark which, CancellationToken ct);
}
