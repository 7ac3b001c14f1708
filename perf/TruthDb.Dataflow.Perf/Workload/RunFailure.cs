namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>A run that produced no result: it failed, or it hung and was abandoned.</summary>
/// <param name="Spec">The run.</param>
/// <param name="Hung">True when a phase did not finish within its time limit (the run was abandoned).</param>
/// <param name="Reason">What happened, in one line.</param>
internal sealed record RunFailure(RunSpec Spec, bool Hung, string Reason);
