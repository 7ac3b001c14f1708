using System.Globalization;
using TruthDb.Dataflow.Perf.Engines;
using TruthDb.Dataflow.Perf.Workload;

namespace TruthDb.Dataflow.Perf.Reporting;

/// <summary>
/// The medians of the repeats of one engine in one configuration, its ratio to truthdb's, the disk's
/// ceiling for it (durable rows, when the disk was probed in the same run), and a note: what the
/// engine's acknowledgement promises when that is weaker than the durability's name says, and runs
/// that failed or hung. A configuration whose every run failed has a row with <see cref="Runs"/> 0.
/// </summary>
internal sealed record Summary(
    RunSpec Spec,
    int Runs,
    double RecordsPerSecond,
    double P50Micros,
    double P99Micros,
    double P999Micros,
    double? AverageBatch,
    double? SyncsPerSecond,
    double? AverageSyncMicros,
    double AllocatedBytesPerRecord,
    double CpuMicrosPerRecord,
    double? RatioToTruthDb)
{
    /// <summary>
    /// Producers x records per call / the overwrite + fdatasync p50 of the same run, for durable rows:
    /// with one call in flight per producer, about the most any engine can acknowledge durably.
    /// </summary>
    public double? Ceiling { get; init; }

    /// <summary>The runs of this configuration that failed or hung.</summary>
    public IReadOnlyList<RunFailure> Failures { get; init; } = [];

    /// <summary>What to know about the row, or null: the engine's weaker promise, failed runs, a run whose engine did not close.</summary>
    public string? Note { get; init; }

    /// <summary>One summary per engine and configuration, in the order the configurations first ran.</summary>
    /// <param name="results">Every run that measured.</param>
    /// <param name="failures">Every run that failed or hung.</param>
    /// <param name="ceilingP50Micros">The ceiling probe's p50 of this run, or null when the disk was not probed.</param>
    public static List<Summary> Of(IReadOnlyList<RunResult> results, IReadOnlyList<RunFailure> failures, double? ceilingP50Micros)
    {
        var groups = new List<(RunSpec Spec, List<RunResult> Results, List<RunFailure> Failures)>();
        foreach (var result in results)
        {
            Group(groups, result.Spec).Results.Add(result);
        }

        foreach (var failure in failures)
        {
            Group(groups, failure.Spec).Failures.Add(failure);
        }

        var summaries = new List<Summary>(groups.Count);
        foreach (var (spec, group, failed) in groups)
        {
            var summary = group.Count == 0
                ? new Summary(spec, 0, 0, 0, 0, 0, null, null, null, 0, 0, null)
                : new Summary(
                    spec,
                    group.Count,
                    Median(group, r => r.RecordsPerSecond),
                    Median(group, r => r.P50Micros),
                    Median(group, r => r.P99Micros),
                    Median(group, r => r.P999Micros),
                    MedianOrNull(group, r => r.AverageBatch),
                    MedianOrNull(group, r => r.SyncsPerSecond),
                    MedianOrNull(group, r => r.AverageSyncMicros),
                    Median(group, r => r.AllocatedBytesPerRecord),
                    Median(group, r => r.CpuMicrosPerRecord),
                    null);
            summaries.Add(summary with
            {
                Ceiling = spec.Durability == Durability.Sync && ceilingP50Micros is > 0 ? spec.Producers * spec.Batch * 1e6 / ceilingP50Micros : null,
                Failures = failed,
                Note = NoteFor(spec, group, failed),
            });
        }

        for (var i = 0; i < summaries.Count; i++)
        {
            var baseline = summaries.Find(s => s.Spec.Engine == TruthDbEngine.EngineName && SameConfig(s.Spec, summaries[i].Spec));
            if (baseline is { RecordsPerSecond: > 0 } && summaries[i].Runs > 0)
            {
                summaries[i] = summaries[i] with { RatioToTruthDb = summaries[i].RecordsPerSecond / baseline.RecordsPerSecond };
            }
        }

        return summaries;
    }

    private static (RunSpec Spec, List<RunResult> Results, List<RunFailure> Failures) Group(
        List<(RunSpec Spec, List<RunResult> Results, List<RunFailure> Failures)> groups, RunSpec spec)
    {
        var index = groups.FindIndex(g => SameConfig(g.Spec, spec) && g.Spec.Engine == spec.Engine);
        if (index < 0)
        {
            groups.Add((spec, [], []));
            index = groups.Count - 1;
        }

        return groups[index];
    }

    private static string? NoteFor(RunSpec spec, List<RunResult> results, List<RunFailure> failures)
    {
        var notes = new List<string>();
        if (EngineCatalog.Caveat(spec.Engine, spec.Durability) is { } caveat)
        {
            notes.Add(caveat);
        }

        var runs = results.Count + failures.Count;
        var hung = failures.Count(f => f.Hung);
        if (hung > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{hung} of {runs} runs hung"));
        }

        if (failures.Count > hung)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{failures.Count - hung} of {runs} runs failed"));
        }

        var unclosed = results.Count(r => r.Problem is not null);
        if (unclosed > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{unclosed} of {runs} runs measured, then did not close"));
        }

        return notes.Count == 0 ? null : string.Join("; ", notes);
    }

    private static bool SameConfig(RunSpec a, RunSpec b) =>
        a.Durability == b.Durability && a.RecordSize == b.RecordSize && a.Producers == b.Producers && a.Batch == b.Batch;

    private static double Median(List<RunResult> group, Func<RunResult, double> metric)
    {
        var values = new double[group.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = metric(group[i]);
        }

        Array.Sort(values);
        var middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private static double? MedianOrNull(List<RunResult> group, Func<RunResult, double?> metric)
    {
        foreach (var result in group)
        {
            if (metric(result) is null)
            {
                return null;
            }
        }

        return Median(group, r => metric(r)!.Value);
    }
}
