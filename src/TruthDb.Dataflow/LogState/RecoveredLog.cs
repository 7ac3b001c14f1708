using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.LogState;

/// <summary>The state recovery hands to the writer.</summary>
/// <param name="LogId">The log's identity.</param>
/// <param name="Segments">Every segment, oldest first; the last one is the active segment.</param>
/// <param name="Active">The last segment, opened for writing.</param>
/// <param name="WriteOffset">Where the next frame goes in <paramref name="Active"/>.</param>
/// <param name="LastLsn">The last record's LSN (0 for an empty log).</param>
/// <param name="ActiveSealed">True when the last segment is already sealed: the next record starts a new segment.</param>
/// <param name="ActiveIndex">The sparse index of the last segment, built while scanning it.</param>
internal sealed record RecoveredLog(LogId LogId, SegmentInfo[] Segments, IStorageFile Active, long WriteOffset, long LastLsn, bool ActiveSealed, SparseIndex ActiveIndex)
{
    /// <summary>Bytes of torn tail that recovery dropped (0 when the tail was clean).</summary>
    public long TruncatedBytes { get; init; }
}
