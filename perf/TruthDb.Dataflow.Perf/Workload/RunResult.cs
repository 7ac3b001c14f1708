using TruthDb.Dataflow.Perf.Engines;

namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>What one run measured, over its measured window only.</summary>
internal sealed record RunResult(
    RunSpec Spec,
    long Records,
    double Seconds,
    double P50Micros,
    double P99Micros,
    double P999Micros,
    double MaxMicros,
    double MeanMicros,
    EngineCounters? Counters,
    double AllocatedBytesPerRecord,
    double CpuMicrosPerRecord)
{
    /// <summary>Set when the run measured but then misbehaved (its engine did not close in time).</summary>
    public string? Problem { get; init; }

    public double RecordsPerSecond => Seconds > 0 ? Records / Seconds : 0;

    public double? AverageBatch => Counters is { Batches: > 0, Appends: > 0 } c ? (double)c.Appends / c.Batches : null;

    public double? SyncsPerSecond => Counters is { } c && Seconds > 0 ? c.Syncs / Seconds : null;

    public double? AverageSyncMicros => Counters is { Syncs: > 0 } c ? c.SyncTime.TotalMicroseconds / c.Syncs : null;
}
