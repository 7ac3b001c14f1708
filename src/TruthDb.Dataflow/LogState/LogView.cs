using System.Diagnostics;
using TruthDb.Dataflow.Format;

namespace TruthDb.Dataflow.LogState;

/// <summary>
/// The published shape of the log: its identity (and so its checksum seed), its segments, and the
/// sparse index of the active segment so far. The writer publishes (on its thread only), always after
/// the files it describes exist; readers on any thread read it without locks. Each publish replaces an
/// immutable value (a new segment array, a new index), so a reader sees either the old view or the new.
/// </summary>
internal sealed class LogView
{
    private SegmentInfo[] _segments;
    private SparseIndex _activeIndex;

    // The first LSN of the last segment the writer sealed (or recovery found sealed), -1 for none.
    private long _sealedSegment = -1;

    /// <summary>The view of a log as recovery left it.</summary>
    public LogView(LogId logId, SegmentInfo[] segments, SparseIndex activeIndex)
    {
        Debug.Assert(segments.Length > 0, "a log has at least one segment");
        LogId = logId;
        _segments = segments;
        _activeIndex = activeIndex;
    }

    /// <summary>The log's identity.</summary>
    public LogId LogId { get; }

    /// <summary>The log's checksum seed (<see cref="LogId.Seed"/>).</summary>
    public uint Seed => LogId.Seed;

    /// <summary>The segments, oldest first; the last one is the active segment. Never empty.</summary>
    public SegmentInfo[] Segments => Volatile.Read(ref _segments);

    /// <summary>The sparse index of the active segment so far (its <see cref="SparseIndex.FirstLsn"/> says which).</summary>
    public SparseIndex ActiveIndex => Volatile.Read(ref _activeIndex);

    /// <summary>The first LSN the log keeps (the first segment's).</summary>
    public long FirstLsn => Segments[0].FirstLsn;

    /// <summary>Publishes a new segment list (a segment added, or old ones dropped by retention).</summary>
    public void Publish(SegmentInfo[] segments)
    {
        Debug.Assert(segments.Length > 0, "a log has at least one segment");
        Debug.Assert(IsOrdered(segments), "segments are published oldest first, without duplicates");
        Volatile.Write(ref _segments, segments);
    }

    /// <summary>Publishes the active segment's index after an entry was added or a new segment started.</summary>
    public void Publish(SparseIndex activeIndex) => Volatile.Write(ref _activeIndex, activeIndex);

    /// <summary>Publishes that the active segment is sealed: its trailer is written and synced (the writer, before it starts the next one).</summary>
    public void PublishSealed(SegmentInfo active) => Volatile.Write(ref _sealedSegment, active.FirstLsn);

    /// <summary>
    /// True when <paramref name="active"/>, the active segment as a reader last saw it, is sealed. Every
    /// segment before the active one is; the active one is only between its seal and the start of the
    /// next (rarely seen: the writer seals and starts the next in one step, unless it crashed between
    /// them and recovery found it so).
    /// </summary>
    public bool IsActiveSealed(SegmentInfo active) => active.FirstLsn == Volatile.Read(ref _sealedSegment);

    private static bool IsOrdered(SegmentInfo[] segments)
    {
        for (var i = 1; i < segments.Length; i++)
        {
            if (segments[i].FirstLsn <= segments[i - 1].FirstLsn)
            {
                return false;
            }
        }

        return true;
    }
}
