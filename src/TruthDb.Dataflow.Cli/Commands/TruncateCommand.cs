using System.CommandLine;
using TruthDb.Dataflow.Cli.Support;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb truncate</c>: retention by LSN (<see cref="Wal.TruncateBeforeAsync"/>). Drops whole
/// sealed segments whose records are all below the LSN; without <c>--yes</c> it only says what it
/// would drop. Opens the log (takes the writer lock). Never passes a durable cursor unless
/// <c>--ignore-cursors</c>.
/// </summary>
internal static class TruncateCommand
{
    public static Command Create()
    {
        var directory = CommonOptions.Directory();
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
            Description = "Drop records that durable cursors have not committed yet.",
        };
        var verbose = CommonOptions.Verbose();
        var command = new Command("truncate", "Retention: drop whole sealed segments below an LSN. Asks for --yes. Opens the log (takes the writer lock).");
        command.Add(directory);
        command.Add(before);
        command.Add(yes);
        command.Add(ignoreCursors);
        command.Add(verbose);
        command.SetAction((parse, ct) => Verb.RunAsync(() => RunAsync(
            parse.GetRequiredValue(directory), parse.GetValue(before), parse.GetValue(yes), parse.GetValue(ignoreCursors), parse.GetValue(verbose), ct)));
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

        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = directory, RetentionIgnoresCursors = ignoreCursors, Logger = CommonOptions.EngineLogger(verbose) }, ct);
        var firstBefore = wal.FirstLsn;
        await wal.TruncateBeforeAsync(before, ct);
        Console.WriteLine(wal.FirstLsn == firstBefore
            ? $"Nothing dropped: the log still starts at LSN {wal.FirstLsn}."
            : $"Dropped LSNs {firstBefore} to {wal.FirstLsn - 1}; the log now starts at LSN {wal.FirstLsn}.");
        return ExitCodes.Ok;
    }
}
