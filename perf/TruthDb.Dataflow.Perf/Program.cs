// The performance harness: measures the disk (when the probe workload is selected), then runs each
// engine on the same disk, configuration by configuration, with the engines' runs interleaved
// (truthdb, filestream, truthdb, ...) so slow drift on a shared machine hits them alike. Every run
// has time limits: a hung engine fails its run and the harness goes on. Prints one line per run and
// a table of medians with ratios to truthdb and the disk's ceiling; --json appends machine-readable
// lines. See perf/README.md.
using System.Globalization;
using TruthDb.Dataflow;
using TruthDb.Dataflow.Perf;
using TruthDb.Dataflow.Perf.DiskProbe;
using TruthDb.Dataflow.Perf.Reporting;
using TruthDb.Dataflow.Perf.Workload;

PerfOptions options;
try
{
    options = PerfOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(PerfOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(PerfOptions.Usage);
    return 0;
}

if (options.FollowAndExit is { } follow)
{
    return await FollowerChild.FollowAndExitAsync(follow[0], long.Parse(follow[1], CultureInfo.InvariantCulture), follow[2], follow[3], follow[4]);
}

if (options.FillAndExit is { } fill)
{
    return await RecoveryRun.FillAndExitAsync(
        fill[0],
        fill[1],
        long.Parse(fill[2], CultureInfo.InvariantCulture),
        int.Parse(fill[3], CultureInfo.InvariantCulture),
        long.Parse(fill[4], CultureInfo.InvariantCulture));
}

Directory.CreateDirectory(options.Directory);
var machine = MachineInfo.Describe(options.Directory);
var session = DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
Console.WriteLine($"machine: {machine}");
Console.WriteLine($"log directory root: {Path.GetFullPath(options.Directory)}");
using var json = options.JsonPath is null ? null : new JsonLines(options.JsonPath, session, machine);

double? ceilingP50 = null;
if (options.Runs(PerfOptions.ProbeWorkload))
{
    if (!OperatingSystem.IsLinux())
    {
        Console.Error.WriteLine("The disk probe uses fdatasync and runs on Linux only.");
        if (options.Workloads.Length == 1)
        {
            return 2;
        }
    }
    else
    {
        ceilingP50 = RunDiskProbes(options, session, json);
    }
}

var specs = new List<RunSpec>();
if (options.Runs("append"))
{
    foreach (var (durability, size, producers, batch) in options.Configurations)
    {
        for (var repeat = 1; repeat <= options.Repeat; repeat++)
        {
            foreach (var engine in options.Engines)
            {
                specs.Add(new RunSpec(engine, durability, size, producers, batch, options.Warmup, options.Duration, options.Records, repeat));
            }
        }
    }

    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"{specs.Count} runs: {(options.Records > 0 ? $"{options.Records:N0} records" : $"{options.Duration.TotalSeconds:0.###} s")} measured after {options.Warmup.TotalSeconds:0.###} s warm-up, median of {options.Repeat}"));
}

var results = new List<RunResult>();
var failed = new List<RunFailure>();
var failures = 0;
var slack = options.RunTimeout ?? TimeSpan.FromMinutes(options.Records > 0 ? 10 : 1);
for (var i = 0; i < specs.Count; i++)
{
    var spec = specs[i];
    var directory = Path.Combine(options.Directory, $"run-{session}-{i + 1}-{spec.Engine}");
    try
    {
        var result = await AppendRun.ExecuteAsync(spec, directory, options.SegmentSize, slack);
        results.Add(result);
        json?.Write(result);
        Console.WriteLine(ConsoleTable.RunLine(result));
        if (result.Problem is { } problem)
        {
            failures++;
            Console.Error.WriteLine($"  {spec.Engine}: run {spec.Repeat}: {problem}");
        }
    }
    catch (TimeoutException ex)
    {
        failures++;
        failed.Add(new RunFailure(spec, Hung: true, ex.Message));
        json?.Write(failed[^1]);
        Console.Error.WriteLine($"  {spec.Engine}: run {spec.Repeat} failed, {ex.Message}");
        await ReportAbandonedWorkAsync();
    }
    catch (Exception ex) when (ex is IOException or WalFaultedException or InvalidOperationException or ObjectDisposedException or ArgumentException
        or UnauthorizedAccessException or Tsavorite.core.TsavoriteException or RocksDbSharp.RocksDbException)
    {
        failures++;
        failed.Add(new RunFailure(spec, Hung: false, $"{ex.GetType().Name}: {ex.Message}"));
        json?.Write(failed[^1]);
        Console.Error.WriteLine($"  {spec.Engine}: run {spec.Repeat} failed: {ex}");
    }
    finally
    {
        TryDelete(directory);
    }
}

if (specs.Count > 0)
{
    var summaries = Summary.Of(results, failed, ceilingP50);
    Console.WriteLine();
    Console.WriteLine("medians of the repeats (latency: one append, awaited; x truthdb: records/s relative to truthdb in the same configuration)");
    if (ceilingP50 is { } p50)
    {
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"ceiling (sync rows) = producers x records per call / {DiskProbes.CeilingProbe} p50 of this run ({p50:N0} us): with one call in flight per producer, acknowledged after a sync, about the most any engine can do"));
    }

    Console.Write(ConsoleTable.Render(summaries));
    Console.Write(ConsoleTable.Failures(summaries));
    foreach (var summary in summaries)
    {
        json?.Write(summary);
    }

    if (options.HtmlPath is { } html)
    {
        HtmlReport.Write(html, summaries, machine, session);
        Console.WriteLine($"chart: {html}");
    }
}

failures += await ReadSideWorkloads.RunAsync(options, session, json);
return failures == 0 ? 0 : 1;

// Runs every disk probe; returns the p50 of the ceiling probe in microseconds.
static double? RunDiskProbes(PerfOptions options, string session, JsonLines? json)
{
    var directory = Path.Combine(options.Directory, $"probe-{session}");
    Directory.CreateDirectory(directory);
    double? ceiling = null;
    try
    {
        Console.WriteLine("| probe | ops/s | syncs/s | MiB/s | p50 us | p99 us |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var probe in DiskProbes.All())
        {
            var result = probe(directory, options.ProbeDuration);
            json?.Write(result);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {result.Name} | {result.OperationsPerSecond:N0} | {result.SyncsPerSecond:N0} | {result.MegabytesPerSecond:N1} | {result.P50Micros:N0} | {result.P99Micros:N0} |"));
            if (result.Name == DiskProbes.CeilingProbe)
            {
                ceiling = result.P50Micros;
            }
        }
    }
    finally
    {
        TryDelete(directory);
    }

    Console.WriteLine();
    return ceiling;
}

// An abandoned (hung) engine may keep threads busy; say so, since it slows every later run.
static async Task ReportAbandonedWorkAsync()
{
    var window = TimeSpan.FromSeconds(1);
    var before = AppendRun.ProcessorTime();
    await Task.Delay(window);
    var busy = (AppendRun.ProcessorTime() - before) / window;
    Console.Error.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"  with nothing running, the process used {busy:P0} of a core over the next second{(busy > 0.2 ? ": the abandoned engine is still busy, later runs are disturbed" : string.Empty)}"));
}

static void TryDelete(string directory)
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
