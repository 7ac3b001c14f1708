using TruthDb.Dataflow.Format;

namespace TruthDb.Dataflow.Repair;

/// <summary>
/// What <see cref="LogRepair"/> does (or did) to a log: where it cuts, which LSNs that removes, which
/// damaged cursors it commits again at LSN 0, and the quarantine files that keep every byte it removes
/// or replaces.
/// </summary>
public sealed class RepairPlan
{
    internal RepairPlan(string directory)
    {
        Directory = directory;
    }

    /// <summary>The full path of the log directory.</summary>
    public string Directory { get; }

    /// <summary>True when the log is damaged and a cut or a cursor reset is planned; false when there is nothing to repair.</summary>
    public bool IsNeeded { get; internal init; }

    /// <summary>True when the log is cut (<see cref="Segment"/>); false when only cursors are reset, or nothing is done.</summary>
    public bool CutsLog => Segment.Length != 0;

    /// <summary>True for a repair that a crash cut short (its intent is durable): <see cref="LogRepair.Repair(string)"/> completes it first, as the next open does.</summary>
    public bool IsInterrupted { get; internal init; }

    /// <summary>The first damage found (what <c>truthdb verify</c> reports first), or empty when there is none.</summary>
    public string Damage { get; internal init; } = string.Empty;

    /// <summary>The number of this repair in the directory (1 for the first): it names its files.</summary>
    public int Number { get; internal init; }

    /// <summary>The segment the log is cut in: its bytes from <see cref="Offset"/> on are removed; empty when the log is not cut.</summary>
    public string Segment { get; internal init; } = string.Empty;

    /// <summary>Where <see cref="Segment"/> is cut; 0 when the whole segment is removed.</summary>
    public long Offset { get; internal init; }

    /// <summary>The last LSN the log keeps (0 when it keeps none).</summary>
    public long KeptLastLsn { get; internal init; }

    /// <summary>The first LSN removed (<see cref="KeptLastLsn"/> + 1).</summary>
    public long FirstRemovedLsn => KeptLastLsn + 1;

    /// <summary>
    /// The highest LSN known in what is removed: the last valid record of a removed segment, or what
    /// the clean-close note or the watermark mirror proved durable. Below <see cref="FirstRemovedLsn"/>
    /// when no record of the log could be identified in the removed bytes.
    /// </summary>
    public long LastRemovedLsn { get; internal init; }

    /// <summary>Whole segment files moved into quarantine (renamed), oldest first.</summary>
    public IReadOnlyList<string> RemovedSegments { get; internal init; } = [];

    /// <summary>The quarantine files (in the log directory) that keep every removed byte.</summary>
    public IReadOnlyList<string> QuarantineFiles { get; internal init; } = [];

    /// <summary>The number of bytes moved into quarantine.</summary>
    public long QuarantineBytes { get; internal init; }

    /// <summary>
    /// The cursors whose files are damaged, in name order: each file's bytes are kept in the quarantine
    /// file of <see cref="CursorQuarantineFiles"/> at the same index, and the cursor is committed again at
    /// LSN 0, so its consumer reads again from the first record (or is told that retention removed
    /// records after it), and retention keeps every record until the consumer commits it further.
    /// </summary>
    public IReadOnlyList<string> ResetCursors { get; internal init; } = [];

    /// <summary>The quarantine files (in the log directory) that keep the damaged cursor files' bytes, one per <see cref="ResetCursors"/> entry.</summary>
    public IReadOnlyList<string> CursorQuarantineFiles { get; internal init; } = [];

    /// <summary>The file that records the cut in the log directory (<c>repair-NNNN.done</c>; <c>.intent</c> until it is complete); a cursor reset alone writes none.</summary>
    public string RecordFile => RepairRecord.RecordName(Number);
}
