using System.Globalization;
using TruthDb.Dataflow.Perf.Reporting;
using TruthDb.Dataflow.Perf.Workload;

namespace TruthDb.Dataflow.Perf;

/// <summary>
/// The workloads after the append comparison: tail latency (truthdb with the followers of
/// <c>--tail-follower</c>, and FasterLog's fastest durable set-up), scan of a closed log and recovery time (truthdb, and FasterLog with stock settings); the
/// FasterLog runs happen when a FasterLog engine is selected.
/// Each prints a table; tail runs are repeated <c>--repeat</c> times (interleaved) and the median row is printed
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
            failures += await RunTailAsync(options, session, json);
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

    // The tail runs: every configuration once per repeat, repeats outermost, so the followers and
    // engines of a configuration are compared under the same conditions; the median row of each.
    private static async Task<int> RunTailAsync(PerfOptions options, string session, JsonLines? json)
    {
        var failures = 0;
        Console.WriteLine();
        Console.WriteLine("tail latency (appends, one follower reading what is durable/committed, or written with --durability written; medians of the repeats, interleaved)");
        Console.WriteLine("| engine | follower | durability | size B | producers | records | append rec/s | ack->follower p50 us | p99 us | p99.9 us | call->follower p50 us | p99 us | follower first |");
        Console.WriteLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var configurations = TailConfigurations(options);
        var runs = new List<TailResult>[configurations.Count];
        for (var r = 0; r < options.Repeat; r++)
        {
            for (var c = 0; c < configurations.Count; c++)
            {
                var (size, producers, durability, engine, follower) = configurations[c];
                var directory = Path.Combine(options.Directory, $"tail-{session}-{engine}-{follower}-{size}-{producers}-{r}");
                try
                {
                    var records = Math.Min(options.TailRecords, producers == 1 ? options.TailRecords / 20 : options.TailRecords);
                    var result = await TailRun.ExecuteAsync(engine, follower, durability, directory, size, producers, Math.Max(records, producers), options.SegmentSize, options.TailWarmup);
                    json?.Write(result);
                    (runs[c] ??= []).Add(result);
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
        }

        for (var c = 0; c < configurations.Count; c++)
        {
            if (runs[c] is not { Count: > 0 } done)
            {
                continue;
            }

            var (size, producers, durability, engine, follower) = configurations[c];
            var latency = follower == TailRun.NoFollower
                ? "- | - | - | - | - | -"
                : Invariant($"{Median(done, x => x.AckToFollowerP50Micros):N0} | {Median(done, x => x.AckToFollowerP99Micros):N0} | {Median(done, x => x.AckToFollowerP999Micros):N0} | {Median(done, x => x.CallToFollowerP50Micros):N0} | {Median(done, x => x.CallToFollowerP99Micros):N0} | {Median(done, x => x.FollowerFirstFraction):P0}");
            Console.WriteLine(Invariant(
                $"| {engine} | {follower} | {(durability == Durability.Sync ? "sync" : "written")} | {size:N0} | {producers} | {done[0].Records:N0} | {Median(done, x => x.RecordsPerSecond):N0} | {latency} |"));
        }

        return failures;
    }

    private static bool WithFaster(PerfOptions options) =>
        Array.IndexOf(options.Engines, Engines.FasterLogEngine.StockName) >= 0
        || Array.IndexOf(options.Engines, Engines.FasterLogEngine.FastName) >= 0;

    // Size by producer count by durability, the engines and followers of one configuration next to
    // each other. The suite: 128 B, 1 and 64 producers, durable, the in-process follower.
    // FasterLog only durable, with its own follower.
    private static List<(int Size, int Producers, Durability Durability, string Engine, string Follower)> TailConfigurations(PerfOptions options)
    {
        var suite = options.Suite is not null;
        var engines = WithFaster(options) ? TailRun.Engines : [Engines.TruthDbEngine.EngineName];
        var list = new List<(int, int, Durability, string, string)>();
        foreach (var size in suite ? [128] : options.RecordSizes)
        {
            foreach (var producers in suite ? [1, 64] : options.Producers)
            {
                foreach (var durability in suite ? [Durability.Sync] : options.Durabilities)
                {
                    foreach (var engine in engines)
                    {
                        foreach (var follower in suite ? [TailRun.InProcess] : options.TailFollowers)
                        {
                            if (engine == Engines.TruthDbEngine.EngineName || (follower == TailRun.InProcess && durability == Durability.Sync))
                            {
                                list.Add((size, producers, durability, engine, follower));
                            }
                        }
                    }
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
