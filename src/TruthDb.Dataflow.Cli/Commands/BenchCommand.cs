using System.CommandLine;
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
        var duration = Durations.Option("--duration", "Run for this long, such as 5s, 2m or 5 (seconds) (default 5s).", TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1));
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
        var verbose = CommonOptions.Verbose();
        var command = new Command("bench", "Group-commit append benchmark: producers append fixed-size records to the log in --dir for a duration or a record count; prints throughput, latency percentiles, batch sizes and syncs/s.")
        {
            directory, producers, recordSize, duration, records, durability, segmentSize, verbose,
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
                parse.GetValue(duration),
                parse.GetValue(records),
                CommonOptions.ParseDurability(parse.GetValue(durability)),
                parse.GetValue(segmentSize)),
            parse.GetValue(verbose),
            ct)));
        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, bool verbose, CancellationToken ct)
    {
        await using var wal = await CommonOptions.OpenAsync(
            new WalOptions { Directory = settings.Directory, Durability = settings.Durability, SegmentSize = settings.SegmentSize, Logger = CommonOptions.EngineLogger(verbose) }, ct);
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
}
