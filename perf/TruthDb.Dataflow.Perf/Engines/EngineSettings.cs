namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>How to open an engine for one run.</summary>
/// <param name="Directory">An empty directory the engine owns for the run.</param>
/// <param name="Durability">When appends are acknowledged: after the group's sync, or after the write reaches the OS.</param>
/// <param name="SegmentSize">Segment size for engines that have segments.</param>
internal sealed record EngineSettings(string Directory, Durability Durability, long SegmentSize);
