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
