namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>One run: an engine, a workload configuration, and how long to measure.</summary>
/// <param name="Engine">Engine name.</param>
/// <param name="Durability">Acknowledge after the group's sync, or after the write.</param>
/// <param name="RecordSize">Payload bytes per record.</param>
/// <param name="Producers">Concurrent producers, each with one append outstanding at a time.</param>
/// <param name="Batch">Records per append call: 1 for single appends; more hands the engine a batch
/// (truthdb <c>AppendBatchAsync</c>, FasterLog <c>EnqueueAsync(IReadOnlySpanBatch)</c>, the FileStream
/// loop's queue takes the records one by one) that completes as a whole.</param>
/// <param name="Warmup">Appends before the measured window starts are not counted.</param>
/// <param name="Duration">Length of the measured window (when <paramref name="Records"/> is 0).</param>
/// <param name="Records">Records to measure in total, split across producers; 0 to measure for <paramref name="Duration"/>.</param>
/// <param name="Repeat">Which repeat of this configuration (1-based).</param>
internal sealed record RunSpec(
    string Engine,
    Durability Durability,
    int RecordSize,
    int Producers,
    int Batch,
    TimeSpan Warmup,
    TimeSpan Duration,
    long Records,
    int Repeat);
