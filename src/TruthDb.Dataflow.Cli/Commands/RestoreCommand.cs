using System.CommandLine;
using TruthDb.Dataflow.Cli.Replicate;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Replication.Nats;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb restore</c>: rebuilds a log from a stream <c>truthdb replicate</c> fed, with a
/// <see cref="NatsRestorer"/>: the same log id and LSNs, byte-exact, resumable after a crash (it goes on
/// from its own log). <c>--follow</c> keeps it current (a read replica) until Ctrl+C or SIGTERM. A gap
/// or a regression in the stream, or another history of the log, exits 5 naming sequence and LSN; a
/// directory holding another log exits 1.
/// </summary>
internal static class RestoreCommand
{
    public static Command Create()
    {
        var command = new Command("restore", "Rebuild a log from a NATS JetStream stream that 'truthdb replicate' fed: the same log id and LSNs, byte-exact; resumes where it stopped; with --follow it stays a read replica. The restored log can later be opened as a writer (failover).");
        var directory = new Option<string>("--dir", "-d") { Description = "The directory of the restored log (created if missing; it holds no log yet, or the one restored from this stream before).", Required = true, HelpName = "path" };
        var nats = NatsConnect.UrlsOption();
        var stream = NatsConnect.StreamOption(command, "The JetStream stream a replicator fed (batches or one record per message).");
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep restoring what the stream gets until Ctrl+C: the directory is a read replica (read it with truthdb read/tail --dir)." };
        var durability = CommonOptions.Durability();
        var segmentSize = Sizes.SegmentSizeOption();
        var concurrency = new Option<int>("--concurrency") { Description = "Messages read from the stream leader at once (1 to 1024; default 64).", DefaultValueFactory = _ => 64, HelpName = "n" }.AtLeast(1);
        var interval = Durations.Option("--interval", "Time between progress lines, such as 1s or 250ms (default 1s).", TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(50), TimeSpan.FromHours(1));
        foreach (var option in new Option[] { directory, nats, stream, follow, durability, segmentSize, concurrency, interval })
        {
            command.Add(option);
        }

        command.Validators.Add(result =>
        {
            if (result.GetValue(concurrency) > 1024)
            {
                result.AddError("--concurrency must be at most 1024.");
            }
        });
        command.SetAction((parse, ct) => Verb.RunAsync(() => RunAsync(
            parse.GetRequiredValue(directory),
            parse.GetValue(nats) ?? NatsConnect.DefaultUrl,
            new NatsRestorerOptions
            {
                StreamName = parse.GetRequiredValue(stream),
                Durability = CommonOptions.ParseDurability(parse.GetValue(durability)),
                SegmentSize = parse.GetValue(segmentSize),
                Concurrency = parse.GetValue(concurrency),
                Logger = new StderrLogger(),
            },
            parse.GetValue(follow),
            parse.GetValue(interval),
            ct)));
        return command;
    }

    private static async Task<int> RunAsync(string directory, string urls, NatsRestorerOptions options, bool follow, TimeSpan interval, CancellationToken ct)
    {
        CommonOptions.RequireNotFile(directory);
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new CliException(Messages.Of(ex), ExitCodes.Usage);
        }

        await using var connection = await NatsConnect.ConnectAsync(urls, "truthdb-restore", 4096);
        var restorer = NatsRestorer.Create(directory, connection, options);
        Console.WriteLine($"restoring stream '{restorer.StreamName}' at {urls} into '{restorer.Directory}'{(follow ? ", following" : string.Empty)}");
        var monitor = new RestoreMonitor(restorer);
        try
        {
            var run = follow ? restorer.RunAsync(ct) : restorer.RestoreAsync(ct);
            await NatsConnect.ReportAsync(run, monitor.NextLine, interval);
        }
        catch (StreamMismatchException ex)
        {
            Console.WriteLine(monitor.Summary("failed"));
            throw new CliException(ex.Message, ExitCodes.StreamMismatch);
        }
        catch (ReplicationException ex)
        {
            Console.WriteLine(monitor.Summary("failed"));
            throw new CliException(ex.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopped before the end of the stream.
        }

        Console.WriteLine(monitor.Summary(ct.IsCancellationRequested || follow ? "stopped" : "restored"));
        return ExitCodes.Ok;
    }
}
