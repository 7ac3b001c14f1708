using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Reading;

public sealed class ReadTests
{
    [Fact]
    public async Task ReadAsync_FromTheMiddle_StartsThereAcrossSegments()
    {
        var storage = new SimulatedStorage("sim://read");
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        for (var i = 0; i < 300; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 700));
        }

        Assert.True(wal.GetStatistics().Segments > 2);
        var records = await wal.ReadAllAsync(fromLsn: 123);
        Assert.Equal(Enumerable.Range(123, 178).Select(i => (long)i), records.Select(r => r.Lsn));
        Assert.Equal(Payloads.Make(0, 122, 700), records[0].Payload);
        Assert.Empty(await wal.ReadAllAsync(fromLsn: 301));
        Assert.Throws<ArgumentOutOfRangeException>(() => wal.ReadAsync(-1));
    }

    [Fact]
    public async Task ReadAsync_Snapshot_EndsAtTheWatermarkAsOfTheCall()
    {
        var storage = new SimulatedStorage("sim://snapshot");
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        for (var i = 0; i < 10; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 50));
        }

        var seen = new List<long>();
        await foreach (var record in wal.ReadAsync(0, null, Timeouts.Token()))
        {
            seen.Add(record.Lsn);
            await wal.AppendAsync(Payloads.Make(1, (int)record.Lsn, 50));
        }

        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), seen);
    }

    [Fact]
    public async Task ReadAsync_Follow_SeesEveryRecordInOrderAndEndsOnDispose()
    {
        var storage = new SimulatedStorage("sim://follow");
        var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        var follower = Task.Run(async () =>
        {
            var seen = new List<(long, byte[])>();
            await foreach (var record in wal.ReadAsync(1, new ReadOptions { Follow = true }, Timeouts.Token()))
            {
                Assert.True(record.Lsn <= wal.DurableLsn, "a follower saw a record above the durable watermark");
                seen.Add((record.Lsn, record.ToArray()));
            }

            return seen;
        });

        var tasks = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                await wal.AppendAsync(Payloads.Make(p, i, 600));
            }
        }));
        await Task.WhenAll(tasks);
        await wal.DisposeAsync();

        var records = await follower.WaitAsync(Timeouts.Unexpected);
        Assert.Equal(Enumerable.Range(1, 400).Select(i => (long)i), records.Select(r => r.Item1));
        Assert.All(records, r => Assert.True(Payloads.IsIntact(r.Item2, out _, out _)));
    }

    [Fact]
    public async Task ReadAsync_FollowCancelled_EndsWithCancellation()
    {
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(new SimulatedStorage("sim://cancel-follow")));
        await wal.AppendAsync(new byte[4]);
        using var cts = new CancellationTokenSource();
        var reading = Task.Run(async () =>
        {
            var count = 0;
            await foreach (var record in wal.ReadAsync(0, new ReadOptions { Follow = true }, cts.Token))
            {
                count++;
                if (count == 1)
                {
                    cts.Cancel();
                }
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(Timeouts.Unexpected));
    }

    [Fact]
    public async Task ReadAsync_WrittenWatermark_SeesRecordsBeforeTheyAreDurable()
    {
        var gated = new GatedStorage(new SimulatedStorage("sim://written-watermark"));
        await using var wal = await Wal.OpenAsync(new WalOptions { Storage = gated, SegmentSize = 64 * 1024 });
        await wal.AppendAsync(new byte[] { 1 });
        gated.Close();
        var pending = wal.AppendAsync(new byte[] { 2 }).AsTask();
        await gated.WaitForHeldSyncAsync(Timeouts.Token());

        Assert.Equal(2, wal.WrittenLsn);
        Assert.Equal(1, wal.DurableLsn);
        Assert.Single(await wal.ReadAllAsync());
        Assert.Equal(2, (await wal.ReadAllAsync(0, new ReadOptions { Watermark = WalWatermark.Written })).Count);

        gated.Open();
        Assert.Equal(2, await pending);
    }
}
