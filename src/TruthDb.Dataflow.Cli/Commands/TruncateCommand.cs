using System.CommandLine;
using TruthDb.Dataflow.Cli.Support;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb truncate</c>: retention by LSN (<see cref="Wal.TruncateBeforeAsync"/>). Drops whole
/// sealed segments whose records are all below the LSN; without <c>--yes</c> it only says what it
/// would drop. Opens the log (takes the writer lock), or asks the <c>truthdb serve</c> on
/// <c>--socket</c> to do it. Never passes a durable cursor unless <c>--ignore-cursors</c> (for a
/// served log: unless the server runs with <c>--retention-ignores-cursors</c>).
/// </summary>
internal static class TruncateCommand
{
    public static Command Create()
    {
        var before = new Option<long>("--before")
        {
            Description = "Drop the sealed segments whose records are all below this LSN.",
            Required = true,
            HelpName = "lsn",
        }.AtLeast(1L);
        var yes = new Option<bool>("--yes")
        {
            Description = "Really drop them (without it, only print what would be dropped).",
        };
        var ignoreCursors = new Option<bool>("--ignore-cursors")
        {
            Description = "Drop records that durable cursors have not committed yet (not with --socket: the server's --retention-ignores-cursors decides).",
        };
        var verbose = CommonOptions.Verbose();
        var command = new Command("truncate", "Retention: drop whole sealed segments below an LSN. Asks for --yes. Opens the log (takes the writer lock), or asks the server with --socket.");
        var target = LogTarget.AddTo(command);
        command.Add(before);
        command.Add(yes);
        command.Add(ignoreCursors);
        command.Add(verbose);
        command.SetAction((parse, ct) => Verb.RunAsync(() =>
        {
            if (target.SocketPath(parse) is { } socket)
            {
                LogTarget.RejectWithSocket(parse, ignoreCursors, "whether a served log's retention passes cursors is set by 'truthdb serve --retention-ignores-cursors'.");
                LogTarget.RejectWithSocket(parse, verbose, "a served log's events are printed by 'truthdb serve --verbose'.");
                return RunServedAsync(socket, parse.GetValue(target.TokenFile), parse.GetValue(before), parse.GetValue(yes), ct);
            }

            return RunAsync(target.DirectoryPath(parse), parse.GetValue(before), parse.GetValue(yes), parse.GetValue(ignoreCursors), parse.GetValue(verbose), ct);
        }));
        return command;
    }

    private static async Task<int> RunAsync(string directory, long before, bool yes, bool ignoreCursors, bool verbose, CancellationToken ct)
    {
        CommonOptions.RequireExistingLog(directory);
        if (!yes)
        {
            var stats = Inspection.LogInspector.GetStats(directory);
            var dropped = stats.Segments.Take(Math.Max(0, stats.Segments.Count - 1)).Where(s => s.LastLsn < before).ToList();
            Console.WriteLine(dropped.Count == 0
                ? $"Nothing to drop: no sealed segment holds only records below LSN {before}."
                : $"Would drop {dropped.Count} segment(s), LSNs {dropped[0].FirstLsn} to {dropped[^1].LastLsn} (fewer if a durable cursor still needs them). Run again with --yes to drop them.");
            return ExitCodes.Usage;
        }

        await using var wal = await CommonOptions.OpenAsync(new WalOptions { Directory = directory, RetentionIgnoresCursors = ignoreCursors, Logger = CommonOptions.EngineLogger(verbose) }, ct);
        var firstBefore = wal.FirstLsn;
        await wal.TruncateBeforeAsync(before, ct);
        Console.WriteLine(Dropped(firstBefore, wal.FirstLsn));
        return ExitCodes.Ok;
    }

    private static async Task<int> RunServedAsync(string socket, string? tokenFile, long before, bool yes, CancellationToken ct)
    {
        await using var client = await LogTarget.ConnectAsync(socket, tokenFile, durableAppends: true, ct);
        var firstBefore = (await client.GetStatisticsAsync(ct)).FirstLsn;
        if (!yes)
        {
            // The protocol does not list segments: what would go is known only as a bound.
            Console.WriteLine(before <= firstBefore
                ? $"Nothing to drop: the served log starts at LSN {firstBefore}."
                : $"Would drop the sealed segments holding only LSNs {firstBefore} to {before - 1} (fewer if a durable cursor still needs them; never the active segment). Run again with --yes to drop them.");
            return ExitCodes.Usage;
        }

        var first = await client.TruncateBeforeAsync(before, ct);
        Console.WriteLine(Dropped(firstBefore, first));
        return ExitCodes.Ok;
    }

    private static string Dropped(long firstBefore, long first) => first == firstBefore
        ? $"Nothing dropped: the log still starts at LSN {first}."
        : $"Dropped LSNs {firstBefore} to {first - 1}; the log now starts at LSN {first}.";
}
