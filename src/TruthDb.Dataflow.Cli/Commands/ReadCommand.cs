using System.CommandLine;
using TruthDb.Dataflow.Cli.Support;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb read</c> and <c>truthdb tail</c>: records from an LSN, as text, hex or JSON; <c>tail</c>
/// follows the log (<see cref="ReadOptions.Follow"/>) until Ctrl+C. Both read through
/// <see cref="WalReader"/> only, whatever state the directory is in: no writer lock, no recovery, no
/// byte changed (they work while another process appends, on a plain copy of the segment files and
/// on a damaged log, which they read up to the damage and then fail naming where they stopped). The
/// one write is <c>--commit</c>: the cursor's own file, nothing else. With <c>--socket</c> they read
/// a served log through its server instead (and <c>--commit</c> commits the cursor there).
/// <c>--count</c> and <c>--to</c> end the read (and a tail) early.
/// </summary>
internal static class ReadCommand
{
    public static Command Create(bool follow)
    {
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
        var count = new Option<long>("--count", "-n")
        {
            Description = "Stop after printing this many records (a tail too).",
            HelpName = "n",
        }.AtLeast(1L);
        var to = new Option<long>("--to")
        {
            Description = "Stop after the record with this LSN (a tail waits for it; a read ends at the end of the log if it comes first).",
            HelpName = "lsn",
        }.AtLeast(1L);
        var command = follow
            ? new Command("tail", "Print the log's records from an LSN and keep printing new ones as they are appended, until Ctrl+C. Works while another process writes (no lock), cursors included.")
            : new Command("read", "Print the log's records from an LSN up to the end of the log. Works while another process writes (no lock), cursors included.");
        var target = LogTarget.AddTo(command);
        command.Add(from);
        command.Add(count);
        command.Add(to);
        command.Add(format);
        command.Add(written);
        command.Add(cursor);
        command.Add(commit);
        cursor.Validators.Add(result =>
        {
            // The engine's rule for cursor names (WalReader.CommitCursorAsync), checked here so that a bad
            // name is a usage error before anything is opened.
            var name = result.GetValueOrDefault<string?>() ?? string.Empty;
            if (name.Length is < 1 or > 100 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                result.AddError($"--cursor: '{name}' is not a valid cursor name: use 1 to 100 characters from A-Z, a-z, 0-9, '.', '_' and '-'.");
            }
        });
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

            if (result.GetResult(to) is { Implicit: false } && Parsed(result, to) is { } last && Parsed(result, from) is { } first && first > last)
            {
                result.AddError($"--to ({last}) is below --from ({first}): nothing to print.");
            }
        });
        command.SetAction((parse, ct) => Verb.RunAsync(() =>
        {
            var settings = new ReadSettings(
                parse.GetValue(from), parse.GetValue(cursor), parse.GetValue(commit), parse.GetValue(format) ?? "text", parse.GetValue(written), follow,
                Given(parse, count), Given(parse, to));
            return target.SocketPath(parse) is { } socket
                ? RunServedAsync(socket, parse.GetValue(target.TokenFile), settings, ct)
                : RunAsync(target.DirectoryPath(parse), settings, ct);
        }));
        return command;
    }

    private static async Task<int> RunAsync(string directory, ReadSettings settings, CancellationToken ct)
    {
        CommonOptions.RequireExistingLog(directory);
        using var reader = WalReader.Open(directory);
        var read = await PrintAsync(
            settings.Cursor is null ? reader.ReadAsync(settings.From, settings.Options, ct) : reader.ReadFromCursorAsync(settings.Cursor, settings.Options, ct), settings, ct);
        if (settings.Commit && settings.Cursor is not null && read > 0)
        {
            await reader.CommitCursorAsync(settings.Cursor, read, CancellationToken.None);
            Committed(settings.Cursor, read);
        }

        return ExitCodes.Ok;
    }

    private static async Task<int> RunServedAsync(string socket, string? tokenFile, ReadSettings settings, CancellationToken ct)
    {
        await using var client = await LogTarget.ConnectAsync(socket, tokenFile, durableAppends: true, ct);
        var read = await PrintAsync(
            settings.Cursor is null ? client.ReadAsync(settings.From, settings.Options, ct) : client.ReadFromCursorAsync(settings.Cursor, settings.Options, ct), settings, ct);
        if (settings.Commit && settings.Cursor is not null && read > 0)
        {
            await client.CommitCursorAsync(settings.Cursor, read, CancellationToken.None);
            Committed(settings.Cursor, read);
        }

        return ExitCodes.Ok;
    }

    // The option's value, or null when it is not a number (the parser reports that error itself).
    private static long? Parsed(System.CommandLine.Parsing.CommandResult result, Option<long> option)
    {
        try
        {
            return result.GetValue(option);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static long? Given(ParseResult parse, Option<long> option) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : null;

    private static void Committed(string cursor, long lsn) => Console.Error.WriteLine($"committed cursor '{cursor}' at LSN {lsn}");

    // Prints records until the read ends (or Ctrl+C ends a tail); returns the last LSN printed.
    private static async Task<long> PrintAsync(IAsyncEnumerable<WalRecord> source, ReadSettings settings, CancellationToken ct)
    {
        using var output = new RecordWriter(Console.OpenStandardOutput(), settings.Format);
        long last = 0, printed = 0;
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

                if (records.Current.Lsn > settings.To)
                {
                    break;
                }

                output.Write(records.Current);
                output.Flush(force: false);
                last = records.Current.Lsn;
                if (++printed == settings.Count || last == settings.To)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (settings.Follow && ct.IsCancellationRequested)
        {
            // Ctrl+C ends a tail: the normal way out.
        }

        output.Flush(force: true);
        return last;
    }

    private sealed record ReadSettings(long From, string? Cursor, bool Commit, string Format, bool Written, bool Follow, long? Count, long? To)
    {
        public ReadOptions Options => new() { Follow = Follow, Watermark = Written ? WalWatermark.Written : WalWatermark.Durable };
    }
}
