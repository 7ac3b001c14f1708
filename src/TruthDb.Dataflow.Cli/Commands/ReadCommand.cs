using System.CommandLine;
using TruthDb.Dataflow.Cli.Support;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb read</c> and <c>truthdb tail</c>: records from an LSN, as text, hex or JSON; <c>tail</c>
/// follows the log (<see cref="ReadOptions.Follow"/>) until Ctrl+C. Both read through
/// <see cref="WalReader"/> only, whatever state the directory is in: no writer lock, no recovery, no
/// byte changed (they work while another process appends, on a plain copy of the segment files and
/// on a damaged log, which they read up to the damage and then fail naming where they stopped). The
/// one write is <c>--commit</c>: the cursor's own file, nothing else.
/// </summary>
internal static class ReadCommand
{
    public static Command Create(bool follow)
    {
        var directory = CommonOptions.Directory();
        var from = new Option<long>("--from")
        {
            Description = "The first LSN to print (default 0: from the first record still in the log).",
            DefaultValueFactory = _ => 0,
            HelpName = "lsn",
        }.AtLeast(0L);
        var cursor = new Option<string?>("--cursor")
        {
            Description = "Print the records after this durable cursor's committed LSN instead of --from.",
            HelpName = "name",
        };
        var commit = new Option<bool>("--commit")
        {
            Description = "With --cursor: commit the cursor at the last record printed when the command ends (for tail: on Ctrl+C).",
        };
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
            ? new Command("tail", "Print the log's records from an LSN and keep printing new ones as they are appended, until Ctrl+C. Works while another process writes (no lock), cursors included.")
            : new Command("read", "Print the log's records from an LSN up to the end of the log. Works while another process writes (no lock), cursors included.");
        command.Add(directory);
        command.Add(from);
        command.Add(format);
        command.Add(written);
        command.Add(cursor);
        command.Add(commit);
        command.Validators.Add(result =>
        {
            if (result.GetValue(cursor) is not null && result.GetResult(from) is { Implicit: false })
            {
                result.AddError("--cursor and --from cannot be used together.");
            }

            if (result.GetValue(commit) && result.GetValue(cursor) is null)
            {
                result.AddError("--commit needs --cursor.");
            }
        });
        command.SetAction((parse, ct) => Verb.RunAsync(() => RunAsync(
            parse.GetRequiredValue(directory), parse.GetValue(from), parse.GetValue(cursor), parse.GetValue(commit), parse.GetValue(format) ?? "text", parse.GetValue(written), follow, ct)));
        return command;
    }

    private static async Task<int> RunAsync(string directory, long from, string? cursor, bool commit, string format, bool written, bool follow, CancellationToken ct)
    {
        CommonOptions.RequireExistingLog(directory);
        var options = new ReadOptions { Follow = follow, Watermark = written ? WalWatermark.Written : WalWatermark.Durable };

        using var reader = WalReader.Open(directory);
        var read = await PrintAsync(cursor is null ? reader.ReadAsync(from, options, ct) : reader.ReadFromCursorAsync(cursor, options, ct), format, follow, ct);
        if (commit && cursor is not null && read > 0)
        {
            await reader.CommitCursorAsync(cursor, read, CancellationToken.None);
            Committed(cursor, read);
        }

        return ExitCodes.Ok;
    }

    private static void Committed(string cursor, long lsn) => Console.Error.WriteLine($"committed cursor '{cursor}' at LSN {lsn}");

    // Prints records until the read ends (or Ctrl+C ends a tail); returns the last LSN printed.
    private static async Task<long> PrintAsync(IAsyncEnumerable<WalRecord> source, string format, bool follow, CancellationToken ct)
    {
        using var output = new RecordWriter(Console.OpenStandardOutput(), format);
        long last = 0;
        try
        {
            await using var records = source.GetAsyncEnumerator(ct);
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
                last = records.Current.Lsn;
            }
        }
        catch (OperationCanceledException) when (follow && ct.IsCancellationRequested)
        {
            // Ctrl+C ends a tail: the normal way out.
        }

        output.Flush(force: true);
        return last;
    }
}
