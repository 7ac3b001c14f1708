namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// Cumulative writer counters of an engine: records written, groups (batches) they were written in,
/// syncs issued and the time spent in them. The harness subtracts two snapshots to get a window.
/// </summary>
internal readonly record struct EngineCounters(long Appends, long Batches, long Syncs, TimeSpan SyncTime)
{
    /// <summary>What happened between <paramref name="earlier"/> and this snapshot.</summary>
    public EngineCounters Since(EngineCounters earlier) =>
        new(Appends - earlier.Appends, Batches - earlier.Batches, Syncs - earlier.Syncs, SyncTime - earlier.SyncTime);
}
