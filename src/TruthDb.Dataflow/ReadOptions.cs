namespace TruthDb.Dataflow;

/// <summary>Which published position a reader reads up to.</summary>
public enum WalWatermark
{
    /// <summary>Records covered by a completed fdatasync (<see cref="Wal.DurableLsn"/>): they can never vanish.</summary>
    Durable = 0,

    /// <summary>Records whose write returned (<see cref="Wal.WrittenLsn"/>): a power loss may still take them.</summary>
    Written = 1,
}

/// <summary>Options of <see cref="Wal.ReadAsync"/>.</summary>
public sealed class ReadOptions
{
    /// <summary>
    /// False (the default): the read ends at the chosen watermark as it was when the read started.
    /// True: the read tails the log, waiting for new records, until cancelled or the log is disposed.
    /// </summary>
    public bool Follow { get; set; }

    /// <summary>The watermark the read never passes; <see cref="WalWatermark.Durable"/> by default.</summary>
    public WalWatermark Watermark { get; set; } = WalWatermark.Durable;

    /// <summary>
    /// False (the default): asking for an LSN that retention has already removed is an error.
    /// True: the read starts at <see cref="Wal.FirstLsn"/> instead.
    /// </summary>
    public bool StartAtFirstAvailable { get; set; }
}
