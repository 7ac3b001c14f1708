using System.CommandLine;
using System.Globalization;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Ipc;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb append</c>: records from stdin or files into the log, opened from <c>--dir</c> or served
/// on <c>--socket</c>. It always ends by saying what it appended: the LSN range acknowledged and
/// whether it is durable, also when Ctrl+C or SIGTERM interrupts it (exit code 130) or an append or
/// the input fails midway (exit code 1). A record handed to the log is never abandoned: on an
/// interruption the input stops, and every record already handed over is awaited to its outcome.
/// </summary>
internal static class AppendCommand
{
    /// <summary>The exit code of an append that Ctrl+C or SIGTERM interrupted (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    // Appends in flight at once: enough for group commit to batch them, bounded so memory stays flat.
    private const int Window = 4096;

    public static Command Create()
    {
        var durability = CommonOptions.Durability();
        var segmentSize = Sizes.SegmentSizeOption();
        var verbose = CommonOptions.Verbose();
        var binary = new Option<bool>("--binary")
        {
            Description = "Read length-prefixed binary records: each is a 4-byte little-endian unsigned length followed by that many bytes. Without it, each line (split at LF, a trailing CR dropped) is one record.",
        };
        var files = new Argument<string[]>("files")
        {
            Description = "Files to read records from, in order ('-' reads stdin). Without files, records come from stdin.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("append", "Append records from stdin or files to the log (creating it if needed; or to a served log with --socket) and print the range of LSNs acknowledged, also when interrupted.");
        var target = LogTarget.AddTo(command);
        command.Add(durability);
        command.Add(segmentSize);
        command.Add(binary);
        command.Add(verbose);
        command.Add(files);
        command.SetAction((parse, ct) => Verb.RunAsync(async () =>
        {
            var input = parse.GetValue(files) ?? [];
            CheckFiles(input);
            var mode = CommonOptions.ParseDurability(parse.GetValue(durability));
            IAppendTarget sink;
            if (target.SocketPath(parse) is { } socket)
            {
                LogTarget.RejectWithSocket(parse, segmentSize, "a served log's segment size is set by 'truthdb serve --segment-size'.");
                LogTarget.RejectWithSocket(parse, verbose, "a served log's events are printed by 'truthdb serve --verbose'.");
                sink = new ServedAppendTarget(await LogTarget.ConnectAsync(socket, parse.GetValue(target.TokenFile), mode == Durability.Sync, ct), mode == Durability.Sync);
            }
            else
            {
                sink = new DirectoryAppendTarget(await CommonOptions.OpenAsync(
                    new WalOptions { Directory = target.DirectoryPath(parse), Durability = mode, SegmentSize = parse.GetValue(segmentSize), Logger = CommonOptions.EngineLogger(parse.GetValue(verbose)) }, ct));
            }

            await using (sink)
            {
                return await RunAsync(sink, parse.GetValue(binary), input, ct);
            }
        }));
        return command;
    }

    private static void CheckFiles(string[] files)
    {
        foreach (var file in files)
        {
            if (file != "-" && !File.Exists(file))
            {
                throw new CliException(Directory.Exists(file) ? $"The input file '{file}' is a directory." : $"The input file '{file}' does not exist.");
            }
        }
    }

    private static async Task<int> RunAsync(IAppendTarget sink, bool binary, string[] files, CancellationToken ct)
    {
        var pending = new Queue<Task<long>>();
        var acknowledged = new Acknowledged();
        Exception? failure = null;
        var interrupted = false;
        try
        {
            foreach (var source in files.Length == 0 ? ["-"] : files)
            {
                await AppendFromAsync(source, sink, binary, pending, acknowledged, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            interrupted = true;
        }
        catch (Exception ex) when (IsFailure(ex))
        {
            failure = ex;
        }

        // Every record handed over is awaited, whatever stopped the input: its LSN or its failure is known.
        long unknown = 0;
        while (pending.TryDequeue(out var append))
        {
            try
            {
                acknowledged.Add(await append);
            }
            catch (TruthDbAppendOutcomeUnknownException ex)
            {
                unknown++;
                failure ??= ex;
            }
            catch (Exception ex) when (IsFailure(ex))
            {
                failure ??= ex;
            }
        }

        var what = acknowledged.Count == 0 ? string.Empty : await sink.CloseAsync(acknowledged.Last);
        Console.WriteLine((interrupted ? "interrupted: " : string.Empty) + acknowledged.Describe(what) + (failure is null ? string.Empty : " before the failure below"));
        if (unknown > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{unknown} more record(s) were sent and not acknowledged (the connection was lost): they may or may not be in the log; 'truthdb read --from {acknowledged.Last + 1}' shows what is."));
        }

        if (interrupted)
        {
            Console.Error.WriteLine("truthdb: interrupted: the rest of the input was not appended.");
            return Interrupted;
        }

        if (failure is not null)
        {
            // Verb.RunAsync words it (its exit code, its message); what was appended is printed above.
            throw failure is CliException or IOException or WalFaultedException or TruthDbException or TruthDbConnectionException
                ? failure
                : new CliException(Messages.Of(failure), failure);
        }

        return ExitCodes.Ok;
    }

    private static async Task AppendFromAsync(string source, IAppendTarget sink, bool binary, Queue<Task<long>> pending, Acknowledged acknowledged, CancellationToken ct)
    {
        var stream = source == "-" ? Console.OpenStandardInput() : File.OpenRead(source);
        var records = RecordInput.ReadAsync(stream, binary, source == "-" ? "stdin" : $"'{source}'", CancellationToken.None).GetAsyncEnumerator(CancellationToken.None);
        var completed = false;
        try
        {
            // A read from stdin (a pipe, a terminal) does not observe cancellation: the wait for it does,
            // so Ctrl+C stops the input at once even while no record arrives.
            while (await records.MoveNextAsync().AsTask().WaitAsync(ct))
            {
                pending.Enqueue(sink.AppendAsync(records.Current));
                if (pending.Count >= Window)
                {
                    acknowledged.Add(await pending.Dequeue());
                }
            }

            completed = true;
        }
        finally
        {
            // An interrupted read is left behind (the process ends); a finished or failed one is closed.
            if (completed || !ct.IsCancellationRequested)
            {
                await records.DisposeAsync();
                await stream.DisposeAsync();
            }
        }
    }

    private static bool IsFailure(Exception ex) =>
        ex is CliException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException
            or WalFaultedException or ObjectDisposedException or TruthDbException or TruthDbConnectionException;

    /// <summary>The LSNs acknowledged so far.</summary>
    private sealed class Acknowledged
    {
        public long Count { get; private set; }

        public long First { get; private set; }

        public long Last { get; private set; }

        public void Add(long lsn)
        {
            First = Count == 0 ? lsn : Math.Min(First, lsn);
            Last = Math.Max(Last, lsn);
            Count++;
        }

        public string Describe(string what) => Count == 0
            ? "appended 0 records"
            : string.Create(CultureInfo.InvariantCulture,
                $"appended {Count} record{(Count == 1 ? string.Empty : "s")}: LSN {First}..{Last}{(Last - First + 1 == Count ? string.Empty : " (with gaps: records between failed)")} ({what})");
    }
}
