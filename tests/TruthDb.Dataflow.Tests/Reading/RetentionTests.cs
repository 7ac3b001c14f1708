using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Reading;

public sealed class RetentionTests
{
    [Fact]
    public async Task TruncateBefore_DropsWholeSealedSegmentsOnly_AndReadsBelowFirstLsnFailClearly()
    {
        var storage = new SimulatedStorage("sim://retention");
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        for (var i = 0; i < 400; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 600));
        }

        var segmentsBefore = storage.ListFiles().Count(n => n.EndsWith(".wal", StringComparison.Ordinal));
        await wal.TruncateBeforeAsync(250);

        var first = wal.FirstLsn;
        Assert.True(first > 1 && first <= 250, $"FirstLsn {first}");
        Assert.True(storage.Exists(SegmentNames.ForSegment(first)));
        Assert.False(storage.Exists(SegmentNames.ForSegment(1)));
        Assert.True(storage.ListFiles().Count(n => n.EndsWith(".wal", StringComparison.Ordinal)) < segmentsBefore);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => wal.ReadAsync(first - 1));
        Assert.Contains($"retention removed the records below LSN {first}", error.Message, StringComparison.Ordinal);
        var all = await wal.ReadAllAsync(0);
        Assert.Equal(first, all[0].Lsn);
        Assert.Equal(400, all[^1].Lsn);
        Assert.Equal(Payloads.Make(0, (int)first - 1, 600), all[0].Payload);
        var clamped = await wal.ReadAllAsync(1, new ReadOptions { StartAtFirstAvailable = true });
        Assert.Equal(all.Count, clamped.Count);

        // Idempotent, and the active segment always stays.
        await wal.TruncateBeforeAsync(250);
        Assert.Equal(first, wal.FirstLsn);
        await wal.TruncateBeforeAsync(long.MaxValue);
        Assert.Equal(400, wal.DurableLsn);
        Assert.True(wal.GetStatistics().Segments >= 1);
        Assert.Equal(401, await wal.AppendAsync(new byte[1]));
    }

    [Fact]
    public async Task TruncateBefore_WhileAReaderHoldsTheSegment_ReaderFinishesAndFileGoesAfterIt()
    {
        var storage = new SimulatedStorage("sim://leases");
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        for (var i = 0; i < 300; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 600));
        }

        var first = SegmentNames.ForSegment(1);
        await using var reader = wal.ReadAsync(1, null, Timeouts.Token()).GetAsyncEnumerator();
        Assert.True(await reader.MoveNextAsync());
        Assert.Equal(1, reader.Current.Lsn);

        await wal.TruncateBeforeAsync(200);
        Assert.True(wal.FirstLsn > 100, "two segments should be dropped");
        Assert.True(storage.Exists(first), "the segment was deleted under a live reader");

        // The reader finishes its own segment; the next one was dropped too, which it is told clearly.
        var lsn = 1L;
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
        {
            while (await reader.MoveNextAsync())
            {
                lsn++;
                Assert.Equal(lsn, reader.Current.Lsn);
                Assert.Equal(Payloads.Make(0, (int)lsn - 1, 600), reader.Current.Payload.ToArray());
            }
        });

        Assert.Contains($"LSN {lsn + 1} is no longer in the log", error.Message, StringComparison.Ordinal);
        Assert.True(lsn > 50, $"the reader stopped at LSN {lsn}, before the end of its segment");
        Assert.False(storage.Exists(first), "the retired segment outlived its last reader");
    }

    [Fact]
    public async Task CrashDuringTruncation_AtEveryOperation_RecoversAConsistentLog()
    {
        var storage = new SimulatedStorage("sim://retention-crash");
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            for (var i = 0; i < 400; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 600));
            }
        }

        var beforeTruncation = storage.OperationCount;
        long firstAfter;
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            await wal.TruncateBeforeAsync(300);
            firstAfter = wal.FirstLsn;
        }

        for (var k = beforeTruncation; k <= storage.OperationCount; k++)
        {
            foreach (var mode in new[] { CrashMode.DropUnsynced, CrashMode.KeepUnsynced, CrashMode.TearUnsynced })
            {
                var image = storage.CrashImage(k, mode, k);
                await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(image));
                var records = await wal.ReadAllAsync(0);
                var context = $"crash before operation {k}, {mode}";
                Assert.True(records[0].Lsn == 1 || records[0].Lsn == firstAfter, $"{context}: the log starts at {records[0].Lsn}");
                Assert.True(records[^1].Lsn == 400, $"{context}: the log ends at {records[^1].Lsn}");
                for (var i = 0; i < records.Count; i++)
                {
                    Assert.Equal(records[0].Lsn + i, records[i].Lsn);
                    Assert.Equal(Payloads.Make(0, (int)records[i].Lsn - 1, 600), records[i].Payload);
                }

                // A second open finds nothing left to finish.
                Assert.Equal(records[0].Lsn, wal.FirstLsn);
            }
        }
    }
}
