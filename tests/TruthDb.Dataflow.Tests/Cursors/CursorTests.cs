using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Cursors;

public sealed class CursorTests
{
    [Fact]
    public async Task Commit_ThenReopen_ResumesAfterTheCommittedLsn()
    {
        var storage = new SimulatedStorage("sim://cursor");
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            for (var i = 0; i < 100; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 50));
            }

            Assert.Equal(0, wal.GetCursor("job"));
            await wal.CommitCursorAsync("job", 40);
            await wal.CommitCursorAsync("other", 90);
            Assert.Equal(40, wal.GetCursor("job"));
        }

        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage.CrashImage(storage.OperationCount, CrashMode.DropUnsynced, 0))))
        {
            Assert.Equal(40, wal.GetCursor("job"));
            Assert.Equal(90, wal.Cursors["other"]);
            var records = new List<long>();
            await foreach (var record in wal.ReadFromCursorAsync("job"))
            {
                records.Add(record.Lsn);
            }

            Assert.Equal(Enumerable.Range(41, 60).Select(i => (long)i), records);
            Assert.True(await wal.DeleteCursorAsync("other"));
            Assert.False(await wal.DeleteCursorAsync("other"));
        }
    }

    [Fact]
    public async Task Commit_CrashAtEveryOperation_LeavesTheOldOrTheNewPosition()
    {
        var storage = new SimulatedStorage("sim://cursor-crash");
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            for (var i = 0; i < 100; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 50));
            }

            await wal.CommitCursorAsync("job", 30);
        }

        var before = storage.OperationCount;
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            await wal.CommitCursorAsync("job", 70);
        }

        for (var k = before; k <= storage.OperationCount; k++)
        {
            foreach (var mode in new[] { CrashMode.DropUnsynced, CrashMode.KeepUnsynced, CrashMode.TearUnsynced })
            {
                await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage.CrashImage(k, mode, k)));
                var position = wal.GetCursor("job");
                Assert.True(position is 30 or 70, $"crash before operation {k} ({mode}): cursor at {position}");
            }
        }
    }

    [Fact]
    public async Task Dispose_WaitsForTheCursorCommitInProgress_WhichHolds()
    {
        var storage = new SimulatedStorage("sim://cursor-dispose");
        var gated = new GatedStorage(storage);
        var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(gated));
        for (var i = 0; i < 10; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 50));
        }

        gated.Close(name => name.StartsWith("cursor-", StringComparison.Ordinal));
        var commit = Task.Run(async () => await wal.CommitCursorAsync("job", 7));
        await gated.WaitForHeldSyncAsync(Timeouts.Token());
        var disposal = wal.DisposeAsync().AsTask();

        // The log must not let the directory go while the commit is still writing its file. Waiting a
        // moment gives a disposal that did not wait the time to finish.
        await Task.WhenAny(disposal, Task.Delay(TimeSpan.FromMilliseconds(300)));
        Assert.False(disposal.IsCompleted, "the log finished disposing while a cursor commit was writing");
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await wal.CommitCursorAsync("late", 3));

        gated.Open();
        await commit;
        await disposal;
        await using var reopened = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage.CrashImage(storage.OperationCount, CrashMode.DropUnsynced, 0)));
        Assert.Equal(new Dictionary<string, long> { ["job"] = 7 }, reopened.Cursors);
    }

    [Fact]
    public async Task CommitWaitingForAnother_CanBeCancelled_AndWritesNothing()
    {
        var storage = new SimulatedStorage("sim://cursor-wait");
        var gated = new GatedStorage(storage);
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(gated));
        for (var i = 0; i < 10; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 50));
        }

        gated.Close(name => name.StartsWith("cursor-first", StringComparison.Ordinal));
        var first = Task.Run(async () => await wal.CommitCursorAsync("first", 4));
        await gated.WaitForHeldSyncAsync(Timeouts.Token());

        // The second commit waits for its turn without running; cancelled, it gives up and writes nothing.
        using var cancel = new CancellationTokenSource();
        var second = wal.CommitCursorAsync("second", 6, cancel.Token).AsTask();
        Assert.False(second.IsCompleted, "the second commit ran while the first held its turn");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);

        gated.Open();
        await first;
        Assert.Equal(new Dictionary<string, long> { ["first"] = 4 }, wal.Cursors);
        await wal.CommitCursorAsync("second", 6);
        Assert.Equal(6, wal.GetCursor("second"));
    }

    [Fact]
    public async Task Retention_NeverPassesTheSlowestCursor_UnlessTold()
    {
        var storage = new SimulatedStorage("sim://cursor-retention");
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            for (var i = 0; i < 400; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 600));
            }

            await wal.CommitCursorAsync("slow", 50);
            await wal.TruncateBeforeAsync(390);
            Assert.True(wal.FirstLsn <= 51, $"retention passed the cursor: FirstLsn {wal.FirstLsn}");
            Assert.Equal(51, (await wal.ReadAllAsync(51))[0].Lsn);
        }

        var options = SimulatedWorkload.OptionsFor(storage);
        options.RetentionIgnoresCursors = true;
        await using (var wal = await Wal.OpenAsync(options))
        {
            await wal.TruncateBeforeAsync(390);
            Assert.True(wal.FirstLsn > 51);
            Assert.Throws<ArgumentOutOfRangeException>(() => wal.ReadFromCursorAsync("slow"));
            var resumed = await wal.ReadAllAsync(0, new ReadOptions { StartAtFirstAvailable = true });
            Assert.Equal(wal.FirstLsn, resumed[0].Lsn);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/name")]
    [InlineData("dots..are.fine.but/not/slashes")]
    public async Task BadCursorName_IsRefusedWithTheRules(string name)
    {
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(new SimulatedStorage("sim://names")));
        var error = Assert.Throws<ArgumentException>(() => wal.GetCursor(name));
        Assert.Contains("is not a valid cursor name", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = wal.CommitCursorAsync("fine", 5).AsTask(); });
    }
}
