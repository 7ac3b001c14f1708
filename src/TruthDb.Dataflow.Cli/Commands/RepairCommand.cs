using System.CommandLine;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Repair;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb repair</c>: cuts a damaged log at its first damage (<see cref="LogRepair"/>) and moves
/// every byte after the cut into quarantine files in the log directory; commits a cursor whose file is
/// damaged again at LSN 0, its bytes kept in quarantine too. Without <c>--yes</c> it only
/// says what it would do (read-only, exit code 2 when there is something to do, like truncate's dry
/// run). With <c>--yes</c> it takes the writer lock (refused while a writer has the log open).
/// </summary>
internal static class RepairCommand
{
    public static Command Create()
    {
        var directory = CommonOptions.Directory();
        var yes = new Option<bool>("--yes")
        {
            Description = "Really repair the log (without it, only print what would be done and exit with code 2).",
        };
        var command = new Command("repair",
            "Cut a damaged log at its first damage and move every byte after the cut into quarantine files next to the segments (nothing is deleted); "
            + "prints the LSN range removed. A cursor whose file is damaged is committed again at LSN 0, its bytes kept in quarantine. Asks for --yes. Takes the writer lock: refused while a writer has the log open.");
        command.Add(directory);
        command.Add(yes);
        command.SetAction((parse, ct) => Verb.RunAsync(() => Task.FromResult(Run(parse.GetRequiredValue(directory), parse.GetValue(yes)))));
        return command;
    }

    private static int Run(string directory, bool yes)
    {
        CommonOptions.RequireExistingLog(directory);
        if (!yes)
        {
            var plan = LogRepair.Plan(directory);
            if (!plan.IsNeeded)
            {
                Console.WriteLine("Nothing to repair: the log is clean.");
                return ExitCodes.Ok;
            }

            if (plan.IsInterrupted)
            {
                Console.WriteLine($"Repair {plan.Number} was cut short by a crash: --yes (or the next open) completes it.");
            }

            Console.WriteLine($"damage: {plan.Damage}");
            Print(plan);
            Console.WriteLine("Nothing was changed. Run again with --yes to repair.");
            return ExitCodes.Usage;
        }

        var done = LogRepair.Repair(directory);
        if (!done.IsNeeded)
        {
            Console.WriteLine("Nothing to repair: the log is clean.");
            return ExitCodes.Ok;
        }

        Console.WriteLine($"damage: {done.Damage}");
        Print(done);
        Console.WriteLine(done.CutsLog
            ? $"Repaired: removed {Range(done)}; the log now ends at LSN {done.KeptLastLsn}. Recorded in '{done.RecordFile}'."
            : $"Repaired: {done.ResetCursors.Count} cursor(s) committed again at LSN 0; no record removed.");
        return ExitCodes.Ok;
    }

    private static void Print(RepairPlan plan)
    {
        for (var i = 0; i < plan.ResetCursors.Count; i++)
        {
            Console.WriteLine($"cursor {plan.ResetCursors[i]}: its damaged file kept in {plan.CursorQuarantineFiles[i]}, the cursor committed again at LSN 0 (its consumer reads again from the first record)");
        }

        if (!plan.CutsLog)
        {
            Console.WriteLine("cut: none (the segments are intact)");
            return;
        }

        Console.WriteLine(plan.Offset > 0
            ? $"cut: segment {plan.Segment} at offset {plan.Offset}"
            : $"cut: segment {plan.Segment} removed whole");
        Console.WriteLine($"kept: LSNs up to {plan.KeptLastLsn}");
        Console.WriteLine($"removed: {Range(plan)}");
        if (plan.RemovedSegments.Count > 0)
        {
            Console.WriteLine($"segments removed whole: {string.Join(", ", plan.RemovedSegments)}");
        }

        Console.WriteLine(plan.QuarantineFiles.Count == 0
            ? "quarantine: nothing (no byte to move: the removed records are missing, not damaged)"
            : $"quarantine: {plan.QuarantineBytes} byte(s) in {string.Join(", ", plan.QuarantineFiles)}");
        Console.WriteLine("evidence: the clean-close note is deleted and the watermark mirror lowered to the cut; a cursor beyond the cut is lowered at the next open");
    }

    private static string Range(RepairPlan plan) =>
        plan.LastRemovedLsn >= plan.FirstRemovedLsn
            ? $"LSNs {plan.FirstRemovedLsn} to {plan.LastRemovedLsn}"
            : $"LSN {plan.FirstRemovedLsn} onwards (no record of this log identified in the removed bytes)";
}
