using System.Globalization;
using TruthDb.Dataflow.Perf.Reporting;
using TruthDb.Dataflow.Perf.Workload;

namespace TruthDb.Dataflow.Perf;

/// <summary>
/// The workloads after the append comparison: tail latency (truthdb, and FasterLog's fastest durable
/// set-up), scan of a closed log and recovery time (truthdb, and FasterLog with stock settings); the
/// FasterLog runs happen when a FasterLog engine is selected.
/// Each prints a table; tail runs are repeated <c>--repeat</c> times and the median row is printed
/// (the JSON lines carry every run); a scan reports the median of its timed passes.
/// </summary>
internal static class ReadSideWorkloads
{
    /// <summary>Runs the selected workloads; returns the number of failed runs.</summary>
    public static async Task<int> RunAsync(PerfOptions options, string session, JsonLines? json)
    {
        var failures = 0;
        if (options.Runs("tail"))
        {
            Console.WriteLine();
            Console.WriteLine("tail latency (durable appends, one follower reading what is durable/committed; medians of the repeats)");
            Console.WriteLine("| engine | size B | producers | records | append rec/s | ack->follower p50 us | p99 us | p99.9 us | call->follower p50 us | p99 us | follower first |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            var sizes = options.Suite is null ? options.RecordSizes : [128];
            var producerCounts = options.Suite is null ? options.Producers : [1, 64];
            var tailEngines = WithFaster(options) ? TailRun.Engines : [Engines.TruthDbEngine.EngineName];
            foreach (var (size, producers, engine) in TailConfigurations(sizes, producerCounts, tailEngines))
            {
                var runs = new List<TailResult>();
                for (var r = 0; r < options.Repeat; r++)
                {
                    var directory = Path.Combine(options.Directory, $"tail-{session}-{engine}-{size}-{producers}-{r}");
                    try
                    {
                        var records = Math.Min(options.TailRecords, producers == 1 ? options.TailRecords / 20 : options.TailRecords);
                        var result = await TailRun.ExecuteAsync(engine, directory, size, producers, Math.Max(records, producers), options.SegmentSize);
                        json?.Write(result);
                        runs.Add(result);
                    }
                    catch (Exception ex) when (ex is IOException or InvalidOperationException or WalFaultedException)
                    {
                        failures++;
                        Console.Error.WriteLine($"  tail run failed: {ex}");
                    }
                    finally
                    {
                        TryDelete(directory);
                    }
                }

                if (runs.Count > 0)
                {
                    Console.WriteLine(Invariant(
                        $"| {engine} | {size:N0} | {producers} | {runs[0].Records:N0} | {Median(runs, x => x.RecordsPerSecond):N0} | {Median(runs, x => x.AckToFollowerP50Micros):N0} | {Median(runs, x => x.AckToFollowerP99Micros):N0} | {Median(runs, x => x.AckToFollowerP999Micros):N0} | {Median(runs, x => x.CallToFollowerP50Micros):N0} | {Median(runs, x => x.CallToFollowerP99Micros):N0} | {Median(runs, x => x.FollowerFirstFraction):P0} |"));
                }
            }
        }

        if (options.Runs("scan"))
        {
            Console.WriteLine();
            Console.WriteLine(Invariant($"scan of a closed log ({options.ScanMebibytes} MiB of payload; truthdb {options.SegmentSize / (1024 * 1024)} MiB segments, all but the last sealed; page cache hot; median of 3 timed passes)"));
            Console.WriteLine("| engine | size B | records | seconds | records/s | payload GB/s |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
            var sizes = options.Suite is null ? options.RecordSizes : [128, 4096];
            foreach (var (engine, size) in ReadEngines(options, sizes))
            {
                var directory = Path.Combine(options.Directory, $"scan-{session}-{engine}-{size}");
                try
                {
                    var result = engine == "truthdb"
                        ? await ScanRun.ExecuteAsync(directory, size, options.ScanMebibytes, options.SegmentSize, passes: 3)
                        : await FasterLogReadSide.ScanAsync(directory, size, options.ScanMebibytes, passes: 3);
                    json?.Write(result, engine);
                    Console.WriteLine(Invariant($"| {engine} | {size:N0} | {result.Records:N0} | {result.Seconds:N3} | {result.RecordsPerSecond:N0} | {result.PayloadGigabytesPerSecond:N2} |"));
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException or WalFaultedException)
                {
                    failures++;
                    Console.Error.WriteLine($"  scan run failed: {ex}");
                }
                finally
                {
                    TryDelete(directory);
                }
            }
        }

        if (options.Runs("recovery"))
        {
            Console.WriteLine();
            Console.WriteLine(Invariant($"recovery (open after the writing process exited without closing the log, then after a clean close; truthdb {options.SegmentSize / (1024 * 1024)} MiB segments; page cache hot)"));
            Console.WriteLine("| engine | payload MiB | size B | segment files | last LSN / tail address | open after unclean exit ms | open after clean close ms |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
            var size = options.Suite is null ? options.RecordSizes[0] : 128;
            foreach (var mebibytes in options.RecoveryMebibytes)
            {
                foreach (var (engine, _) in ReadEngines(options, [size]))
                {
                    var directory = Path.Combine(options.Directory, $"recovery-{session}-{engine}-{mebibytes}");
                    try
                    {
                        var result = engine == "truthdb"
                            ? await RecoveryRun.ExecuteAsync(directory, size, mebibytes, options.SegmentSize)
                            : await FasterLogReadSide.RecoverAsync(directory, size, mebibytes);
                        json?.Write(result, engine);
                        Console.WriteLine(Invariant($"| {engine} | {mebibytes:N0} | {size:N0} | {result.Segments} | {result.LastLsn:N0} | {result.UncleanOpenMillis:N1} | {result.CleanOpenMillis:N1} |"));
                    }
                    catch (Exception ex) when (ex is IOException or InvalidOperationException or WalFaultedException or WalCorruptedException)
                    {
                        failures++;
                        Console.Error.WriteLine($"  recovery run failed: {ex}");
                    }
                    finally
                    {
                        TryDelete(directory);
                    }
                }
            }
        }

        return failures;
    }

    private static bool WithFaster(PerfOptions options) =>
        Array.IndexOf(options.Engines, Engines.FasterLogEngine.StockName) >= 0
        || Array.IndexOf(options.Engines, Engines.FasterLogEngine.FastName) >= 0;

    // Size by producer count, the engines of one configuration next to each other.
    private static List<(int Size, int Producers, string Engine)> TailConfigurations(int[] sizes, int[] producerCounts, string[] engines)
    {
        var list = new List<(int, int, string)>();
        foreach (var size in sizes)
        {
            foreach (var producers in producerCounts)
            {
                foreach (var engine in engines)
                {
                    list.Add((size, producers, engine));
                }
            }
        }

        return list;
    }

    // truthdb always; FasterLog (stock settings) when a FasterLog engine is selected.
    private static List<(string Engine, int Size)> ReadEngines(PerfOptions options, int[] sizes)
    {
        var withFaster = WithFaster(options);
        var list = new List<(string, int)>();
        foreach (var size in sizes)
        {
            list.Add(("truthdb", size));
            if (withFaster)
            {
                list.Add((Engines.FasterLogEngine.StockName, size));
            }
        }

        return list;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static double Median<T>(List<T> runs, Func<T, double> metric)
    {
        var values = new double[runs.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = metric(runs[i]);
        }

        Array.Sort(values);
        return values[values.Length / 2];
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"  could not delete {directory}: {ex.Message}");
        }
    }
}
