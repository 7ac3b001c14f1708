using TruthDb.Dataflow.Format;

namespace TruthDb.Dataflow.Validation;

/// <summary>What <see cref="LogValidator.Check"/> learnt of one segment.</summary>
internal sealed class SegmentScan(string name, long firstLsn)
{
    /// <summary>The segment file name.</summary>
    public string Name { get; } = name;

    /// <summary>The first LSN its name says.</summary>
    public long FirstLsn { get; } = firstLsn;

    /// <summary>The header, when it could be read (even if it does not fit the log).</summary>
    public SegmentHeader? Header { get; set; }

    /// <summary>The file's length in bytes.</summary>
    public long FileLength { get; set; }

    /// <summary>True when the segment has a valid seal trailer.</summary>
    public bool IsSealed { get; set; }

    /// <summary>The LSN of the last valid record in order (<see cref="FirstLsn"/> - 1 when none, or when the frames were not read: see <see cref="IsSealed"/>).</summary>
    public long LastLsn { get; set; } = firstLsn - 1;

    /// <summary>The offset just past the last valid frame (0 when the header could not be used).</summary>
    public long RecordsEnd { get; set; }

    /// <summary>Why reading frames stopped at <see cref="RecordsEnd"/>.</summary>
    public FrameStatus Stop { get; set; }

    /// <summary>The highest LSN this segment alone proves durable: its last LSN when sealed, else the highest synced-LSN field of its valid frames.</summary>
    public long KnownDurableLsn { get; set; }

    /// <summary>The sparse index built while reading the frames, when asked for (<see cref="SparseIndex.Empty"/> otherwise).</summary>
    public SparseIndex Index { get; set; } = SparseIndex.Empty(firstLsn);

    /// <summary>For the last segment: true when the clean-close note says the log was closed exactly at its end.</summary>
    public bool ClosedCleanly { get; set; }

    /// <summary>For the last segment: what follows its last valid frame.</summary>
    public TailVerdict Tail { get; set; }

    /// <summary>The first LSN the next segment must have; 0 when it cannot be known.</summary>
    public long NextFirstLsn { get; set; }
}
