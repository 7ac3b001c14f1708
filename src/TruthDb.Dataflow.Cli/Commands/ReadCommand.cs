using System.CommandLine;
using TruthDb.Dataflow.Cli.Support;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb read</c> and <c>truthdb tail</c>: records from an LSN, as text, hex or JSON; <c>tail</c>
/// follows the log (<see cref="ReadOptions.Follow"/>) until Ctrl+C. Both open the log through
/// <see cref="Wal.OpenAsync"/>, so they take the writer lock and run recovery.
/// </summary>
internal static class ReadCommand
{
    public static Command Create(bool follow)
    {
        var directory = CommonOptions.Directory();
        var from = new Option<long>("--from")
        {
            Description = "The first LSN to print (default 1: from the start of the log).",
            DefaultValueFactory = _ => 1,
            HelpName = "lsn",
        }.AtLeast(1L);
        var format = new Option<string>("--format", "-f")
        {
            Description = "How to print records: 'text' (LSN, tab, payload bytes), 'hex' (LSN, tab, hex) or 'json' (one JSON object per line).",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong(RecordWriter.Formats);
        var written = new Option<bool>("--written")
        {
            Description = "Read up to the written watermark instead of the durable one (records that survive a process crash but maybe not a power loss).",
        };
        var command = follow
            ? new Command("tail", "Print the log's records from an LSN and keep printing new ones as they are appended, until Ctrl+C. Opens the log (takes the writer lock).")
            : new Command("read", "Print the log's records from an LSN up to the end of the log. Opens the log (takes the writer lock, recovers a torn tail).");
        command.Add(directory);
        command.Add(from);
        command.Add(format);
        command.Add(written);
        command.SetAction((parse, ct) => Verb.RunAsync(() => RunAsync(
            parse.GetRequiredValue(directory), parse.GetValue(from), parse.GetValue(format) ?? "text", parse.GetValue(written), follow, ct)));
        return command;
    }

    private static async Task<int> RunAsync(string directory, long from, string format, bool written, bool follow, CancellationToken ct)
    {
        CommonOptions.RequireExistingLog(directory);
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = directory }, ct);
        var options = new ReadOptions { Follow = follow, Watermark = written ? WalWatermark.Written : WalWatermark.Durable };
        using var output = new RecordWriter(Console.OpenStandardOutput(), format);
        try
        {
            await using var records = wal.ReadAsync(from, options, ct).GetAsyncEnumerator(ct);
            while (true)
            {
                // A follower flushes before it may wait, so what it printed is visible at once.
                var next = records.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    output.Flush(force: true);
                }

                if (!await next)
                {
                    break;
                }

                output.Write(records.Current);
                output.Flush(force: false);
            }
        }
        catch (OperationCanceledException) when (follow && ct.IsCancellationRequested)
        {
            // Ctrl+C ends a tail: the normal way out.
        }

        return ExitCodes.Ok;
    }
}
