using System.Globalization;
using TruthDb.Dataflow.Perf.Engines;
using TruthDb.Dataflow.Perf.Workload;
using TruthDb.Dataflow.Units;

namespace TruthDb.Dataflow.Perf;

/// <summary>The command line, parsed. Lists are comma-separated; every option has a default.</summary>
internal sealed class PerfOptions
{
    public const string Usage = """
        TruthDb.Dataflow.Perf: closed-loop append throughput and latency, engine by engine, on one disk.

        usage: TruthDb.Dataflow.Perf [options]
          --engine <list>        truthdb, fasterlog, fasterlog-fast, tsavoritelog, rocksdb, filestream,
                                 or all (default all); also truthdb-16-followers (16 in-process
                                 followers read the log), truthdb-ipc (the log served over a Unix
                                 socket in this process), truthdb-ipc-stalled-tail (the same with a
                                 stalled tail open), truthdb-serve (served by a `truthdb serve` child)
                                 and tsavoritelog-direct (O_DIRECT device, never synced: not
                                 power-safe), only when named (e.g. all,tsavoritelog-direct)
          --durability <list>    sync, written                                    (default sync)
          --record-size <list>   payload bytes                                    (default 128)
          --producers <list>     concurrent producers, one append in flight each  (default 1,64)
          --batch <list>         records per append call: 1 = single appends; more = the
                                 engine's batch API (truthdb AppendBatchAsync, FasterLog
                                 IReadOnlySpanBatch)                              (default 1)
          --duration <seconds>   measured window per run                          (default 5)
          --records <n>          measure n records per run instead of a duration
          --warmup <seconds>     unmeasured appends before each window            (default 2)
          --repeat <n>           runs per configuration; the median is reported   (default 3)
          --segment-size <size>  truthdb segment size, e.g. 64MiB                 (default 64MiB)
          --dir <path>           where runs create (and delete) their log directory
                                 (default ./data/perf)
          --json <path>          append one JSON line per run (and per summary row) to this file
          --html <path>          write a page with records/s-vs-producers charts and the medians
          --workload <list>      probe, append, tail, scan, recovery, or all      (default append);
                                 probe (the disk probes) runs first, and its overwrite + fdatasync
                                 p50 gives the durable rows their ceiling
          --suite standard       the standard set (see perf/README.md): the disk probes, then every
                                 engine, durable and written appends over sizes and producer counts,
                                 median of 3, then tail, scan and recovery; a few minutes
          --tail-records <n>     records per tail-latency run                     (default 200000)
          --tail-follower <list> who follows in a tail run: wal (the writing Wal itself), walreader
                                 (a WalReader in a child process, woken by change notifications),
                                 walreader-poll (the same, polling), none (the writer alone)
                                 (default wal; tail runs use --durability too)
          --scan-mib <n>         MiB of payload in the scanned log                (default 256)
          --recovery-mib <list>  MiB of payload in the recovered log              (default 64,512)
          --run-timeout <s>      time limit of opening and of closing an engine, and added to warm-up
                                 + duration for its measurement; a run that overruns is reported as
                                 hung and abandoned        (default 60; 600 with --records)
          --disk-probe           only measure the disk itself (write + fdatasync latency, bandwidth):
                                 the same as --workload probe
          --probe-seconds <s>    seconds per disk probe                           (default 3)
          --help
        """;

    /// <summary>The disk probes, as a workload: they run before the others.</summary>
    public const string ProbeWorkload = "probe";

    private static readonly string[] KnownWorkloads = [ProbeWorkload, "append", "tail", "scan", "recovery"];

    public string[] Engines { get; private set; } = EngineCatalog.Names;

    public Durability[] Durabilities { get; private set; } = [Durability.Sync];

    public int[] RecordSizes { get; private set; } = [128];

    public int[] Producers { get; private set; } = [1, 64];

    public int[] Batches { get; private set; } = [1];

    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(5);

    public long Records { get; private set; }

    /// <summary>The time limit of each phase of a run (beyond warm-up + duration for the measurement); null: the default.</summary>
    public TimeSpan? RunTimeout { get; private set; }

    public TimeSpan Warmup { get; private set; } = TimeSpan.FromSeconds(2);

    public int Repeat { get; private set; } = 3;

    public long SegmentSize { get; private set; } = 64L * 1024 * 1024;

    public string Directory { get; private set; } = Path.Combine(".", "data", "perf");

    public string? JsonPath { get; private set; }

    public string? HtmlPath { get; private set; }

    public TimeSpan ProbeDuration { get; private set; } = TimeSpan.FromSeconds(3);

    public bool Help { get; private set; }

    /// <summary>The (durability, size, producers, batch) configurations of the append workload, in run order.</summary>
    public List<(Durability Durability, int RecordSize, int Producers, int Batch)> Configurations { get; } = [];

    public string? Suite { get; private set; }

    public string[] Workloads { get; private set; } = ["append"];

    public long TailRecords { get; private set; } = 200_000;

    public string[] TailFollowers { get; private set; } = [TailRun.InProcess];

    /// <summary>Unmeasured appends before each tail run's measured ones: --warmup, at most 1 s.</summary>
    public TimeSpan TailWarmup => Warmup < TimeSpan.FromSeconds(1) ? Warmup : TimeSpan.FromSeconds(1);

    public long ScanMebibytes { get; private set; } = 256;

    public long[] RecoveryMebibytes { get; private set; } = [64, 512];

    /// <summary>Internal: the tail workload's follower process (directory, records, durable|written, watch|poll, output file).</summary>
    public string[]? FollowAndExit { get; private set; }

    /// <summary>Internal: the recovery workload's child process (engine, directory, MiB, record size, segment size).</summary>
    public string[]? FillAndExit { get; private set; }

    public bool Runs(string workload) => Array.IndexOf(Workloads, workload) >= 0;

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static PerfOptions Parse(string[] args)
    {
        var options = new PerfOptions();
        var diskProbeOnly = false;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            switch (name)
            {
                case "--help" or "-h" or "-?":
                    options.Help = true;
                    break;
                case "--disk-probe":
                    diskProbeOnly = true;
                    break;
                case "--suite":
                    options.Suite = Value(args, ref i);
                    if (options.Suite != "standard")
                    {
                        throw new ArgumentException($"Unknown suite '{options.Suite}'; known: standard.");
                    }

                    break;
                case "--workload":
                    options.Workloads = ParseWorkloads(Value(args, ref i));
                    break;
                case "--tail-records":
                    options.TailRecords = Positive(Value(args, ref i), name);
                    break;
                case "--tail-follower":
                    options.TailFollowers = List(Value(args, ref i), name, ParseFollower);
                    break;
                case "--scan-mib":
                    options.ScanMebibytes = Positive(Value(args, ref i), name);
                    break;
                case "--recovery-mib":
                    options.RecoveryMebibytes = List(Value(args, ref i), name, v => Positive(v, name));
                    break;
                case "--fill-and-exit":
                    options.FillAndExit = [Value(args, ref i), Value(args, ref i), Value(args, ref i), Value(args, ref i), Value(args, ref i)];
                    break;
                case "--follow-and-exit":
                    options.FollowAndExit = [Value(args, ref i), Value(args, ref i), Value(args, ref i), Value(args, ref i), Value(args, ref i)];
                    break;
                case "--engine":
                    options.Engines = ParseEngines(Value(args, ref i));
                    break;
                case "--durability":
                    options.Durabilities = List(Value(args, ref i), name, ParseDurability);
                    break;
                case "--record-size":
                    options.RecordSizes = List(Value(args, ref i), name, v => (int)Positive(v, name));
                    break;
                case "--producers":
                    options.Producers = List(Value(args, ref i), name, v => (int)Positive(v, name));
                    break;
                case "--batch":
                    options.Batches = List(Value(args, ref i), name, v => (int)Positive(v, name));
                    break;
                case "--duration":
                    options.Duration = Seconds(Value(args, ref i), name);
                    break;
                case "--records":
                    options.Records = Positive(Value(args, ref i), name);
                    break;
                case "--run-timeout":
                    options.RunTimeout = Seconds(Value(args, ref i), name);
                    break;
                case "--warmup":
                    options.Warmup = Seconds(Value(args, ref i), name, allowZero: true);
                    break;
                case "--repeat":
                    options.Repeat = (int)Positive(Value(args, ref i), name);
                    break;
                case "--segment-size":
                    options.SegmentSize = Size(Value(args, ref i), name);
                    break;
                case "--dir":
                    options.Directory = Value(args, ref i);
                    break;
                case "--json":
                    options.JsonPath = Value(args, ref i);
                    break;
                case "--html":
                    options.HtmlPath = Value(args, ref i);
                    break;
                case "--probe-seconds":
                    options.ProbeDuration = Seconds(Value(args, ref i), name);
                    break;
                default:
                    throw new ArgumentException($"Unknown option '{name}'.");
            }
        }

        if (diskProbeOnly)
        {
            if (options.Suite is not null || Array.IndexOf(args, "--workload") >= 0)
            {
                throw new ArgumentException("Option '--disk-probe' runs only the disk probes; to run them with other workloads, use '--workload probe,append,...' (the standard suite includes them).");
            }

            options.Workloads = [ProbeWorkload];
        }

        if (options.Suite == "standard")
        {
            options.ApplyStandardSuite(args);
        }
        else
        {
            foreach (var durability in options.Durabilities)
            {
                foreach (var size in options.RecordSizes)
                {
                    foreach (var producers in options.Producers)
                    {
                        foreach (var batch in options.Batches)
                        {
                            options.Configurations.Add((durability, size, producers, batch));
                        }
                    }
                }
            }
        }

        return options;
    }

    // The standard suite: the disk probes (so every report shows the ceiling of its own run) and the
    // configurations the engine comparison is about, sized to run in a few minutes on a small
    // machine. The full sweep (every size x every producer count x both durabilities) is available
    // with explicit lists.
    private void ApplyStandardSuite(string[] args)
    {
        Configurations.Clear();
        foreach (var producers in new[] { 1, 4, 64, 256 })
        {
            Configurations.Add((Durability.Sync, 128, producers, 1));
        }

        Configurations.Add((Durability.Sync, 1024, 64, 1));
        Configurations.Add((Durability.Sync, 4096, 1, 1));
        Configurations.Add((Durability.Sync, 4096, 64, 1));
        Configurations.Add((Durability.Written, 128, 64, 1));
        Configurations.Add((Durability.Written, 128, 64, 64));
        Configurations.Add((Durability.Written, 4096, 64, 1));
        if (Array.IndexOf(args, "--workload") < 0)
        {
            Workloads = KnownWorkloads;
        }

        if (Array.IndexOf(args, "--duration") < 0)
        {
            Duration = TimeSpan.FromSeconds(2);
        }

        if (Array.IndexOf(args, "--warmup") < 0)
        {
            Warmup = TimeSpan.FromSeconds(1.5);
        }
    }

    private static string[] ParseWorkloads(string text)
    {
        if (text.Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return KnownWorkloads;
        }

        return List(text, "--workload", v => Array.IndexOf(KnownWorkloads, v.ToLowerInvariant()) >= 0
            ? v.ToLowerInvariant()
            : throw new ArgumentException($"Unknown workload '{v}'; known: {string.Join(", ", KnownWorkloads)}, all."));
    }

    private static string Value(string[] args, ref int i)
    {
        if (i + 1 >= args.Length)
        {
            throw new ArgumentException($"Option '{args[i]}' needs a value.");
        }

        return args[++i];
    }

    private static T[] List<T>(string text, string name, Func<string, T> parse)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new ArgumentException($"Option '{name}' needs at least one value.");
        }

        var values = new T[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            values[i] = parse(parts[i]);
        }

        return values;
    }

    // "all" may stand in a list ("all,tsavoritelog-direct"); an engine named twice runs once.
    private static string[] ParseEngines(string text)
    {
        var engines = new List<string>();
        foreach (var given in List(text, "--engine", v => v))
        {
            var name = given.ToLowerInvariant();
            if (name == "all")
            {
                engines.AddRange(EngineCatalog.Names);
            }
            else if (Array.IndexOf(EngineCatalog.Known, name) >= 0)
            {
                engines.Add(name);
            }
            else
            {
                throw new ArgumentException($"Unknown engine '{given}'; known: {string.Join(", ", EngineCatalog.Known)}, all.");
            }
        }

        return [.. engines.Distinct()];
    }

    private static Durability ParseDurability(string text) => text.ToLowerInvariant() switch
    {
        "sync" => Durability.Sync,
        "written" => Durability.Written,
        _ => throw new ArgumentException($"Unknown durability '{text}'; use sync or written."),
    };

    private static string ParseFollower(string text) => Array.IndexOf(TailRun.Followers, text.ToLowerInvariant()) is var at and >= 0
        ? TailRun.Followers[at]
        : throw new ArgumentException($"Unknown tail follower '{text}'; use {string.Join(", ", TailRun.Followers)}.");

    private static long Positive(string text, string name) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"Option '{name}' needs a positive whole number, not '{text}'.");

    private static TimeSpan Seconds(string text, string name, bool allowZero = false) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && (value > 0 || (allowZero && value == 0))
            ? TimeSpan.FromSeconds(value)
            : throw new ArgumentException($"Option '{name}' needs a number of seconds, not '{text}'.");

    private static long Size(string text, string name) =>
        Quantities.TryParseSize(text, out var bytes) && bytes > 0
            ? bytes
            : throw new ArgumentException($"Option '{name}' needs {Quantities.SizeSyntax}, not '{text}'.");
}
