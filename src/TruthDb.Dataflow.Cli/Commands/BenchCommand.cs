using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using TruthDb.Dataflow.Cli.Bench;
using TruthDb.Dataflow.Cli.Support;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb bench</c>: a group-commit append benchmark. N producers each append one record at a
/// time and await its acknowledgement (a closed loop), so with <see cref="Durability.Sync"/> every
/// fdatasync covers the records that arrived while the previous one ran. Latency is measured per
/// append; batch sizes and syncs come from <see cref="Wal.GetStatistics"/>. A live progress bar is
/// drawn on a terminal only; the result table always prints.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var directory = CommonOptions.Directory();
        var producers = new Option<int>("--producers", "-p")
        {
            Description = "Concurrent producers, each appending in a loop (default 8).",
            DefaultValueFactory = _ => 8,
            HelpName = "n",
        }.AtLeast(1);
        var recordSize = new Option<int>("--record-size")
        {
            Description = "Payload bytes per record (default 256).",
            DefaultValueFactory = _ => 256,
            HelpName = "bytes",
        }.AtLeast(0);
        var duration = new Option<double>("--duration")
        {
            Description = "Run for this many seconds (default 5).",
            DefaultValueFactory = _ => 5,
            HelpName = "seconds",
        }.AtLeast(0.001);
        var records = new Option<long?>("--records", "-n")
        {
            Description = "Append exactly this many records instead of running for a duration.",
            HelpName = "n",
        };
        records.Validators.Add(result =>
        {
            try
            {
                if (result.GetValueOrDefault<long?>() is < 1)
                {
                    result.AddError("--records must be at least 1.");
                }
            }
            catch (InvalidOperationException)
            {
                // Not a number: the parser reports that error itself.
            }
        });
        var durability = CommonOptions.Durability();
        var segmentSize = Sizes.SegmentSizeOption();
        var command = new Command("bench", "Group-commit append benchmark: producers append fixed-size records to the log in --dir for a duration or a record count; prints throughput, latency percentiles, batch sizes and syncs/s.")
        {
            directory, producers, recordSize, duration, records, durability, segmentSize,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(duration) is { Implicit: false } && result.GetResult(records) is not null)
            {
                result.AddError("Give --duration or --records, not both.");
            }
        });
        command.SetAction((parse, ct) => Verb.RunAsync(() => RunAsync(
            new BenchSettings(
                parse.GetRequiredValue(directory),
                parse.GetValue(producers),
                parse.GetValue(recordSize),
                TimeSpan.FromSeconds(parse.GetValue(duration)),
                parse.GetValue(records),
                CommonOptions.ParseDurability(parse.GetValue(durability)),
                parse.GetValue(segmentSize)),
            ct)));
        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, CancellationToken ct)
    {
        await using var wal = await Wal.OpenAsync(
            new WalOptions { Directory = settings.Directory, Durability = settings.Durability, SegmentSize = settings.SegmentSize }, ct);
        var run = new BenchRun(wal, settings, ct);
        if (Terminal.Interactive)
        {
            await Terminal.Console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask("appending", maxValue: settings.Records is { } n ? n : settings.Duration.TotalSeconds);
                    var all = run.Start();
                    while (!all.IsCompleted)
                    {
                        await Task.WhenAny(all, Task.Delay(100, CancellationToken.None));
                        task.Value = settings.Records is null ? run.Elapsed.TotalSeconds : run.Completed;
                        task.Description = $"{run.Completed:N0} records, {run.Completed / Math.Max(run.Elapsed.TotalSeconds, 1e-9):N0}/s";
                    }

                    await all;
                    task.Value = task.MaxValue;
                });
        }
        else
        {
            await run.Start();
        }

        var result = run.Result();
        Terminal.Console.Write(result.ToTable());
        Console.WriteLine(result.Summary());
        return ExitCodes.Ok;
    }

    private sealed record BenchSettings(string Directory, int Producers, int RecordSize, TimeSpan Duration, long? Records, Durability Durability, long SegmentSize);

    private sealed class BenchRun(Wal wal, BenchSettings settings, CancellationToken stop)
    {
        private readonly LatencyHistogram[] _latencies = new LatencyHistogram[settings.Producers];
        private readonly WalStatistics _before = wal.GetStatistics();
        private long _claimed;
        private long _completed;
        private long _started;
        private long _ended;

        public long Completed => Volatile.Read(ref _completed);

        public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started, Volatile.Read(ref _ended) is var end && end != 0 ? end : Stopwatch.GetTimestamp());

        public Task Start()
        {
            var payload = new byte[settings.RecordSize];
            for (var i = 0; i < payload.Length; i++)
            {
                payload[i] = (byte)('a' + (i % 26));
            }

            _started = Stopwatch.GetTimestamp();
            var producers = new Task[settings.Producers];
            for (var p = 0; p < producers.Length; p++)
            {
                var histogram = _latencies[p] = new LatencyHistogram();
                producers[p] = Task.Run(() => ProduceAsync(payload, histogram), CancellationToken.None);
            }

            return FinishAsync(producers);
        }

        public BenchResult Result()
        {
            var all = new LatencyHistogram();
            foreach (var histogram in _latencies)
            {
                all.Add(histogram);
            }

            var after = wal.GetStatistics();
            return new BenchResult(settings, Completed, Elapsed, all,
                after.Batches - _before.Batches, after.Syncs - _before.Syncs, after.SyncTime - _before.SyncTime, after.Appends - _before.Appends);
        }

        private async Task FinishAsync(Task[] producers)
        {
            await Task.WhenAll(producers);
            Volatile.Write(ref _ended, Stopwatch.GetTimestamp());
        }

        // Ctrl+C stops the producers and the results so far are printed.
        private async Task ProduceAsync(byte[] payload, LatencyHistogram latencies)
        {
            while (!stop.IsCancellationRequested)
            {
                if (settings.Records is { } target ? Interlocked.Increment(ref _claimed) > target : Stopwatch.GetElapsedTime(_started) >= settings.Duration)
                {
                    return;
                }

                var start = Stopwatch.GetTimestamp();
                await wal.AppendAsync(payload, CancellationToken.None);
                latencies.Record(Stopwatch.GetTimestamp() - start);
                Interlocked.Increment(ref _completed);
            }
        }
    }

    private sealed record BenchResult(BenchSettings Settings, long Records, TimeSpan Elapsed, LatencyHistogram Latency, long Batches, long Syncs, TimeSpan SyncTime, long Appends)
    {
        private double Seconds => Math.Max(Elapsed.TotalSeconds, 1e-9);

        public Table ToTable()
        {
            var inv = Show.Invariant;
            var table = new Table().Title("truthdb bench").Border(Terminal.Interactive ? TableBorder.Rounded : TableBorder.Ascii);
            table.AddColumn("metric");
            table.AddColumn(new TableColumn("value").RightAligned());
            void Row(string name, string value) => table.AddRow(name, value);
            Row("durability", Settings.Durability.ToString());
            Row("producers", Settings.Producers.ToString(inv));
            Row("record size", Show.Bytes(Settings.RecordSize));
            Row("records", Records.ToString("N0", inv));
            Row("elapsed", Elapsed.TotalSeconds.ToString("0.000", inv) + " s");
            Row("throughput", (Records / Seconds).ToString("N0", inv) + " records/s");
            Row("payload throughput", Show.Bytes(Records * (double)Settings.RecordSize / Seconds) + "/s");
            Row("latency p50", Micros(Latency.QuantileMicroseconds(0.50)));
            Row("latency p90", Micros(Latency.QuantileMicroseconds(0.90)));
            Row("latency p99", Micros(Latency.QuantileMicroseconds(0.99)));
            Row("latency p99.9", Micros(Latency.QuantileMicroseconds(0.999)));
            Row("latency max", Micros(Latency.MaxMicroseconds));
            Row("batches", Batches.ToString("N0", inv));
            Row("records per batch (mean)", RecordsPerBatch.ToString("0.0", inv));
            Row("syncs", Syncs.ToString("N0", inv));
            Row("syncs/s", (Syncs / Seconds).ToString("N0", inv));
            Row("sync time (mean)", Micros(Syncs == 0 ? 0 : SyncTime.TotalMicroseconds / Syncs));
            return table;
        }

        public string Summary() => string.Create(Show.Invariant,
            $"bench: {Records} records in {Elapsed.TotalSeconds:0.00} s: {Records / Seconds:0} records/s, p50 {Latency.QuantileMicroseconds(0.5):0} us, p99 {Latency.QuantileMicroseconds(0.99):0} us, {RecordsPerBatch:0.0} records/batch, {Syncs / Seconds:0} syncs/s");

        private double RecordsPerBatch => Batches == 0 ? 0 : Appends / (double)Batches;

        private static string Micros(double us) => us.ToString("N1", Show.Invariant) + " µs";
    }
}
