using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Repair;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Repair;

/// <summary>
/// A damaged cursor file: the log refuses to open, verify reports it, and repair commits the cursor
/// again at LSN 0 with the damaged bytes kept in quarantine; a power loss at any step of that leaves
/// the damaged cursor (for the next repair) or the reset one with its quarantine, never neither.
/// </summary>
public sealed class CursorRepairTests
{
    private const string Job = "cursor-job.cur";

    [Fact]
    public async Task DamagedCursorFile_OpenRefuses_VerifyReportsIt_RepairCommitsItAgainAtZero()
    {
        var image = await LogWithCursorsAsync(seed: 83);
        image.FlipBit(Job, 9, 3);
        var damaged = image.ReadAllCurrent(Job);

        var refused = await Assert.ThrowsAsync<WalCorruptedException>(async () => await Wal.OpenAsync(SimulatedWorkload.OptionsFor(image)));
        Assert.Contains($"'{Job}'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'truthdb repair' commits the cursor again at LSN 0", refused.Message, StringComparison.Ordinal);

        var report = LogInspector.VerifyStorage(image);
        var finding = Assert.Single(report.Findings);
        Assert.Equal(LogCondition.DamagedCursor, finding.Condition);
        Assert.Equal(Job, finding.Segment);
        Assert.False(report.IsRecoverable);

        var plan = LogRepair.Repair(image);

        Assert.True(plan.IsNeeded);
        Assert.False(plan.CutsLog);
        Assert.Equal(["job"], plan.ResetCursors);
        Assert.Equal(["repair-0001.cursor-job.cur.quarantine"], plan.CursorQuarantineFiles);
        Assert.Equal(damaged, image.ReadAllCurrent(plan.CursorQuarantineFiles[0]));
        Assert.True(LogInspector.VerifyStorage(image).IsClean);
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(image));
        Assert.Equal(new Dictionary<string, long> { ["job"] = 0, ["other"] = 50 }, wal.Cursors);
        Assert.Equal(1, (await ReadFromCursorAsync(wal, "job"))[0]);
    }

    [Fact]
    public async Task DamagedCursorAndDamagedSegment_OneRepairCutsTheLogAndResetsTheCursor()
    {
        var image = await LogWithCursorsAsync(seed: 84);
        var first = SegmentNames.ForSegment(1);
        image.FlipBit(first, SegmentLayout.RecordsStart + 100, 2);
        image.FlipBit(Job, 17, 0);

        var plan = LogRepair.Repair(image);

        Assert.True(plan.CutsLog);
        Assert.Equal(first, plan.Segment);
        Assert.StartsWith("MidLogCorruption", plan.Damage, StringComparison.Ordinal);
        Assert.Equal(["job"], plan.ResetCursors);
        Assert.Equal([$"repair-{plan.Number:D4}.cursor-job.cur.quarantine"], plan.CursorQuarantineFiles);
        Assert.True(LogInspector.VerifyStorage(image).IsClean, string.Join("; ", LogInspector.VerifyStorage(image).Findings));
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(image));
        Assert.Equal(0, wal.GetCursor("job"));

        // The other cursor was beyond the cut: the open lowered it to the log's new end.
        Assert.Equal(Math.Min(50, plan.KeptLastLsn), wal.GetCursor("other"));
    }

    [Fact]
    public async Task CursorReset_PowerLossAtEveryStep_LeavesTheDamagedCursorOrTheResetOneWithItsQuarantine()
    {
        var image = await LogWithCursorsAsync(seed: 85);
        image.FlipBit(Job, 3, 5);
        var damaged = image.ReadAllCurrent(Job);
        var start = image.OperationCount;
        var plan = LogRepair.Repair(image);
        var end = image.OperationCount;
        var quarantine = plan.CursorQuarantineFiles[0];
        Assert.True(end - start >= 6, $"the reset took only {end - start} operations");

        var reset = 0;
        foreach (var mode in new[] { CrashMode.DropUnsynced, CrashMode.KeepUnsynced, CrashMode.TearUnsynced })
        {
            for (var point = start; point <= end; point++)
            {
                var context = $"{mode}, crash after operation {point - start} of {end - start}";
                var crashed = image.CrashImage(point, mode, point);
                var bytes = crashed.ReadAllCurrent(Job);
                if (bytes.AsSpan().SequenceEqual(damaged))
                {
                    // Not reset yet: the next repair finds it as before, and does it.
                    Assert.Equal(LogCondition.DamagedCursor, Assert.Single(LogInspector.VerifyStorage(crashed).Findings).Condition);
                    var again = LogRepair.Repair(crashed);
                    Assert.Equal(["job"], again.ResetCursors);
                    Assert.Equal(damaged, crashed.ReadAllCurrent(again.CursorQuarantineFiles[0]));
                }
                else
                {
                    // Reset: the damaged bytes were in quarantine, durably, before the cursor file changed.
                    Assert.True(CursorFile.TryDecode(bytes, out var lsn) && lsn == 0, $"{context}: the cursor file is neither the damaged one nor LSN 0");
                    Assert.Equal(damaged, crashed.ReadAllCurrent(quarantine));
                    reset++;
                }

                await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(crashed));
                Assert.Equal(0, wal.GetCursor("job"));
            }
        }

        Assert.True(reset > 0, "no crash point came after the reset");
    }

    // A log of 60 records whose cursors "job" (at 40) and "other" (at 50) are committed, as a process
    // crash leaves it.
    private static async Task<SimulatedStorage> LogWithCursorsAsync(int seed)
    {
        var workload = await SimulatedWorkload.RunAsync(seed, Durability.Sync, producers: 2, records: 60);
        var image = workload.Storage.ProcessCrashImage();
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(image)))
        {
            await wal.CommitCursorAsync("job", 40);
            await wal.CommitCursorAsync("other", 50);
        }

        return image;
    }

    private static async Task<List<long>> ReadFromCursorAsync(Wal wal, string cursor)
    {
        var lsns = new List<long>();
        await foreach (var record in wal.ReadFromCursorAsync(cursor))
        {
            lsns.Add(record.Lsn);
        }

        return lsns;
    }
}
