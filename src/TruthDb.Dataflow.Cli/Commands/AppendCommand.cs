using System.CommandLine;
using TruthDb.Dataflow.Cli.Support;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary><c>truthdb append</c>: records from stdin or files into the log; prints the LSN range acknowledged.</summary>
internal static class AppendCommand
{
    // Appends in flight at once: enough for group commit to batch them, bounded so memory stays flat.
    private const int Window = 4096;

    public static Command Create()
    {
        var directory = CommonOptions.Directory();
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
        var command = new Command("append", "Append records from stdin or files to the log (creating it if needed) and print the range of LSNs acknowledged.")
        {
            directory, durability, segmentSize, binary, verbose, files,
        };
        command.SetAction((parse, ct) => Verb.RunAsync(() => RunAsync(
            parse.GetRequiredValue(directory),
            CommonOptions.ParseDurability(parse.GetValue(durability)),
            parse.GetValue(segmentSize),
            parse.GetValue(binary),
            parse.GetValue(files) ?? [],
            parse.GetValue(verbose),
            ct)));
        return command;
    }

    private static async Task<int> RunAsync(string directory, Durability durability, long segmentSize, bool binary, string[] files, bool verbose, CancellationToken ct)
    {
        foreach (var file in files)
        {
            if (file != "-" && !File.Exists(file))
            {
                throw new CliException($"The input file '{file}' does not exist.");
            }
        }

        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = directory, Durability = durability, SegmentSize = segmentSize, Logger = CommonOptions.EngineLogger(verbose) }, ct);
        var pending = new Queue<Task<long>>();
        long first = 0, last = 0, count = 0;
        foreach (var source in files.Length == 0 ? ["-"] : files)
        {
            var stream = source == "-" ? Console.OpenStandardInput() : File.OpenRead(source);
            await using (stream)
            {
                await foreach (var record in RecordInput.ReadAsync(stream, binary, source == "-" ? "stdin" : $"'{source}'", ct))
                {
                    pending.Enqueue(wal.AppendAsync(record, ct).AsTask());
                    if (pending.Count >= Window)
                    {
                        Acknowledge(await pending.Dequeue());
                    }
                }
            }
        }

        while (pending.Count > 0)
        {
            Acknowledge(await pending.Dequeue());
        }

        var what = durability == Durability.Sync ? "durable" : "written; durable after the next background sync";
        Console.WriteLine(count == 0
            ? "appended 0 records"
            : $"appended {count} record{(count == 1 ? string.Empty : "s")}: LSN {first}..{last} ({what})");
        return ExitCodes.Ok;

        void Acknowledge(long lsn)
        {
            first = count == 0 ? lsn : first;
            last = lsn;
            count++;
        }
    }
}
