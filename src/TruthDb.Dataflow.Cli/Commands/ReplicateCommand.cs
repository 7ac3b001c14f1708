using System.CommandLine;
using TruthDb.Dataflow.Cli.Replicate;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Replication.Nats;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb replicate</c>: ships the log into a NATS JetStream stream with a
/// <see cref="NatsReplicator"/> reading through <see cref="WalReader"/> (no writer lock: it runs beside
/// the process that appends). Progress once per interval (a status line on a terminal, plain lines
/// when redirected); Ctrl+C or SIGTERM stops it cleanly (in-flight acknowledgements awaited, cursor
/// committed). A rejected publish exits 1 naming the LSN; a stream that lost records it cannot get
/// back, or that is not continuous, exits 5 naming sequence and LSN. <c>--audit</c> compares instead
/// of shipping (<see cref="AuditCommand"/>).
/// </summary>
internal static class ReplicateCommand
{
    public static Command Create()
    {
        var command = new Command("replicate", "Ship the log into a NATS JetStream stream, each record exactly once and in order (in batches, or one message per record with --format record; message ids name the LSNs), resuming from a durable cursor; follows the log until Ctrl+C. Works while another process appends (no lock).");
        var directory = CommonOptions.Directory();
        var nats = NatsConnect.UrlsOption();
        var stream = NatsConnect.StreamOption(command, "The JetStream stream to publish into (created if missing unless --no-create).");
        var subject = new Option<string?>("--subject") { Description = "The subject (default truthdb.<log name>).", HelpName = "subject" };
        var logName = new Option<string?>("--log-name") { Description = "The log's name in the default subject (default: the directory's name, with characters other than letters, digits, '-' and '_' replaced by '_').", HelpName = "name" };
        var cursor = new Option<string?>("--cursor") { Description = "The durable cursor that records what the stream acknowledged (default replicator-<stream>).", HelpName = "name" };
        var replicas = new Option<int>("--replicas") { Description = "Replicas of the stream (1-5; default 1); an existing stream must have as many.", DefaultValueFactory = _ => 1, HelpName = "n" }.AtLeast(1);
        var storage = new Option<string>("--storage") { Description = "Storage of the stream: 'file' (default) or 'memory'; an existing stream must match.", DefaultValueFactory = _ => "file" };
        storage.AcceptOnlyFromAmong("file", "memory");
        var window = Durations.Option("--duplicate-window", "Duplicate window of a created stream, such as 2m or 120 (seconds) (default 2m).", TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        var maxMessages = new Option<long>("--max-messages") { Description = "Message limit of a created stream (default -1: none); a full stream rejects publishes, it never drops records.", DefaultValueFactory = _ => -1, HelpName = "n" }.AtLeast(-1L);
        var format = new Option<string>("--format") { Description = "How records travel: 'batch' (default: consecutive records in one message, see docs/replication.md for its body) or 'record' (one message per record). An existing stream keeps its format.", DefaultValueFactory = _ => "batch" };
        format.AcceptOnlyFromAmong("batch", "record");
        var batchRecords = new Option<int>("--batch-records") { Description = "Records in one batch, at most (1 to 1000000; default 1024).", DefaultValueFactory = _ => 1024, HelpName = "n" }.AtLeast(1);
        var batchBytes = new Option<long>("--batch-bytes")
        {
            Description = "Bytes of one batch, at most, such as 256KiB (the default; 1KiB to 64MiB, and never more than the server's max_payload allows); a larger record goes alone.",
            DefaultValueFactory = _ => 256 * 1024,
            CustomParser = r => Sizes.Parse(r, 1024, 64 * 1024 * 1024),
            HelpName = "size",
        };
        var inFlight = new Option<int>("--max-in-flight") { Description = "Messages awaiting acknowledgement, at most (default 1024).", DefaultValueFactory = _ => 1024, HelpName = "n" }.AtLeast(1);
        var inFlightBytes = new Option<long>("--max-in-flight-bytes")
        {
            Description = "Bytes of the messages awaiting acknowledgement, at most, such as 16MiB (the default; 64KiB to 1GiB); one message always goes.",
            DefaultValueFactory = _ => 16L * 1024 * 1024,
            CustomParser = r => Sizes.Parse(r, 64 * 1024, 1L << 30),
            HelpName = "size",
        };
        var ackTimeout = Durations.Option("--ack-timeout", "How long a publish may wait for its acknowledgement before the replicator reconciles and retries, such as 5s or 500ms (default 5s).", TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10));
        var noCreate = new Option<bool>("--no-create") { Description = "Fail when the stream does not exist instead of creating it." };
        var untilCaughtUp = new Option<bool>("--until-caught-up") { Description = "Ship what is durable now, wait for the acknowledgements, and exit (instead of following the log)." };
        var audit = new Option<bool>("--audit") { Description = "Compare the whole stream with the log instead of shipping (read-only on both; through the stream leader): every LSN exactly once, in order, byte-exact. Exit 0 when they match, 5 when they differ." };
        var interval = Durations.Option("--interval", "Time between progress lines, such as 1s or 250ms (default 1s).", TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(50), TimeSpan.FromHours(1));
        foreach (var option in new Option[] { directory, nats, stream, subject, logName, cursor, replicas, storage, window, maxMessages, format, batchRecords, batchBytes, inFlight, inFlightBytes, ackTimeout, noCreate, untilCaughtUp, audit, interval })
        {
            command.Add(option);
        }
        command.Validators.Add(result =>
        {
            if (result.GetValue(subject) is { } s && !LogNames.IsSubject(s))
            {
                result.AddError($"'{s}' is not a literal subject (dot-separated tokens, no wildcards or spaces).");
            }

            if (result.GetValue(logName) is { } l && !LogNames.IsToken(l))
            {
                result.AddError($"'{l}' is not a valid log name (letters, digits, '-' and '_').");
            }

            if (result.GetValue(audit) && result.GetValue(untilCaughtUp))
            {
                result.AddError("--audit and --until-caught-up exclude each other: --audit only reads.");
            }

            if (result.GetValue(replicas) > 5)
            {
                result.AddError("--replicas must be at most 5.");
            }

            if (result.GetValue(batchRecords) > 1_000_000)
            {
                result.AddError("--batch-records must be at most 1000000.");
            }
        });
        command.SetAction((parse, ct) => Verb.RunAsync(() => RunAsync(
            new ReplicateSettings(
                parse.GetRequiredValue(directory),
                parse.GetValue(nats) ?? NatsConnect.DefaultUrl,
                new NatsReplicatorOptions
                {
                    StreamName = parse.GetRequiredValue(stream),
                    Subject = parse.GetValue(subject),
                    LogName = parse.GetValue(logName),
                    CursorName = parse.GetValue(cursor),
                    Replicas = parse.GetValue(replicas),
                    Storage = parse.GetValue(storage) == "memory" ? NatsStreamStorage.Memory : NatsStreamStorage.File,
                    DuplicateWindow = parse.GetValue(window),
                    MaxMessages = parse.GetValue(maxMessages) is 0 ? -1 : parse.GetValue(maxMessages),
                    Format = parse.GetValue(format) == "record" ? NatsMessageFormat.Record : NatsMessageFormat.Batch,
                    BatchMaxRecords = parse.GetValue(batchRecords),
                    BatchMaxBytes = (int)parse.GetValue(batchBytes),
                    MaxInFlight = parse.GetValue(inFlight),
                    MaxInFlightBytes = parse.GetValue(inFlightBytes),
                    AckTimeout = parse.GetValue(ackTimeout),
                    CreateStream = !parse.GetValue(noCreate),
                    Logger = new StderrLogger(),
                },
                parse.GetValue(untilCaughtUp),
                parse.GetValue(audit),
                parse.GetValue(interval)),
            ct)));
        return command;
    }

    private static async Task<int> RunAsync(ReplicateSettings settings, CancellationToken ct)
    {
        CommonOptions.RequireExistingLog(settings.Directory);
        try
        {
            settings.Options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ex.Message, ExitCodes.Usage);
        }

        await using var connection = await NatsConnect.ConnectAsync(settings.NatsUrls, "truthdb-replicate", Math.Max(4096, settings.Options.MaxInFlight * 4));
        if (settings.Audit)
        {
            return await AuditCommand.RunAsync(settings, connection, ct);
        }

        using var replicator = NatsReplicator.Open(settings.Directory, connection, settings.Options);
        Console.WriteLine($"replicating '{Path.GetFullPath(settings.Directory)}' into stream '{replicator.StreamName}' (subject {replicator.Subject}, cursor {replicator.CursorName}) at {settings.NatsUrls}");
        using var monitor = new ReplicationMonitor(replicator);
        try
        {
            var run = settings.UntilCaughtUp ? replicator.CatchUpAsync(ct) : replicator.RunAsync(ct);
            await NatsConnect.ReportAsync(run, monitor.NextLine, settings.ProgressInterval);
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
            // Stopped before catching up.
        }

        Console.WriteLine(monitor.Summary(ct.IsCancellationRequested ? "stopped" : settings.UntilCaughtUp ? "caught up" : "stopped"));
        return ExitCodes.Ok;
    }
}
