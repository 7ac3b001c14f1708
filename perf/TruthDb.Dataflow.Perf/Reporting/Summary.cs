using TruthDb.Dataflow.Perf.Workload;

namespace TruthDb.Dataflow.Perf.Reporting;

/// <summary>The medians of the repeats of one engine in one configuration, and its ratio to truthdb's.</summary>
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
    /// <summary>One summary per engine and configuration, in the order the configurations first ran.</summary>
    public static List<Summary> Of(IReadOnlyList<RunResult> results)
    {
        var groups = new List<List<RunResult>>();
        foreach (var result in results)
        {
            var group = groups.Find(g => SameConfig(g[0].Spec, result.Spec) && g[0].Spec.Engine == result.Spec.Engine);
            if (group is null)
            {
                groups.Add(group = []);
            }

            group.Add(result);
        }

        var summaries = new List<Summary>(groups.Count);
        foreach (var group in groups)
        {
            summaries.Add(new Summary(
                group[0].Spec,
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
                null));
        }

        for (var i = 0; i < summaries.Count; i++)
        {
            var baseline = summaries.Find(s => s.Spec.Engine == Engines.TruthDbEngine.EngineName && SameConfig(s.Spec, summaries[i].Spec));
            if (baseline is { RecordsPerSecond: > 0 })
            {
                summaries[i] = summaries[i] with { RatioToTruthDb = summaries[i].RecordsPerSecond / baseline.RecordsPerSecond };
            }
        }

        return summaries;
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
