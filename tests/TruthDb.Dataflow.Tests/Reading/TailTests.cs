using System.Collections.Concurrent;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Reading;

public sealed class TailTests
{
    [Fact]
    public async Task SixteenTailers_While64ProducersAppendAcrossRolls_EachSeesEveryRecordOnceInOrder()
    {
        using var dir = new TestDirectory();
        var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });
        var appended = new ConcurrentDictionary<long, byte[]>();
        var tailers = Enumerable.Range(0, 16).Select(t => Task.Run(async () =>
        {
            var seen = new List<(long, byte[])>();
            await foreach (var record in wal.ReadAsync(1, new ReadOptions { Follow = true }, Timeouts.Token()))
            {
                seen.Add((record.Lsn, record.ToArray()));
            }

            return seen;
        })).ToArray();

        var producers = Enumerable.Range(0, 64).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                var payload = Payloads.Make(p, i, 100 + (p * 13 + i * 7) % 400);
                appended[await wal.AppendAsync(payload)] = payload;
            }
        }));
        await Task.WhenAll(producers).WaitAsync(Timeouts.Unexpected);
        Assert.True(wal.GetStatistics().Segments >= 4, "the workload should roll several segments");
        await wal.DisposeAsync();

        foreach (var tailer in tailers)
        {
            var seen = await tailer.WaitAsync(Timeouts.Unexpected);
            Assert.Equal(appended.Count, seen.Count);
            for (var i = 0; i < seen.Count; i++)
            {
                Assert.Equal(i + 1, seen[i].Item1);
                Assert.Equal(appended[seen[i].Item1], seen[i].Item2);
            }
        }
    }

    [Fact]
    public async Task StalledReader_HoldingAnEnumerator_DoesNotBlockAppends()
    {
        using var dir = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });
        await wal.AppendAsync(new byte[100]);
        await using var stalled = wal.ReadAsync(1, new ReadOptions { Follow = true }, Timeouts.Token()).GetAsyncEnumerator();
        Assert.True(await stalled.MoveNextAsync());

        for (var i = 0; i < 2000; i++)
        {
            await wal.AppendAsync(new byte[200]).AsTask().WaitAsync(Timeouts.Unexpected);
        }

        Assert.Equal(2001, wal.DurableLsn);
        Assert.True(wal.GetStatistics().Segments > 3);
    }

    [Fact]
    public async Task DurableFollower_NeverSeesARecordThatAPowerLossRemoves()
    {
        var storage = new SimulatedStorage("sim://durable-follow");
        var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage, Durability.Written));
        var seenAt = new ConcurrentQueue<(long Lsn, int Operation)>();
        var follower = Task.Run(async () =>
        {
            await foreach (var record in wal.ReadAsync(1, new ReadOptions { Follow = true }, Timeouts.Token()))
            {
                Assert.True(record.Lsn <= wal.DurableLsn, "a durable follower saw a record above the durable watermark");
                seenAt.Enqueue((record.Lsn, storage.OperationCount));
            }
        });

        var producers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                await wal.AppendAsync(Payloads.Make(p, i, 300));
            }
        }));
        await Task.WhenAll(producers);

        // Everything durable, and seen by the follower, before the log closes (a follower that first
        // looks after the close gets ObjectDisposedException, not the records).
        var last = await wal.FlushAsync();
        Assert.Equal(600, last);
        while (!seenAt.Any(seen => seen.Lsn == last) && !follower.IsCompleted)
        {
            await Task.Delay(10);
        }

        await wal.DisposeAsync();
        await follower.WaitAsync(Timeouts.Unexpected);
        Assert.Equal(Enumerable.Range(1, 600).Select(lsn => (long)lsn), seenAt.Select(seen => seen.Lsn));

        // A power loss at any moment after a record was seen keeps it.
        foreach (var (lsn, operation) in seenAt.Where((_, i) => i % 7 == 0))
        {
            var image = storage.CrashImage(operation, CrashMode.DropUnsynced, (int)lsn);
            var records = await LogChecks.RecoverAsync(image, Durability.Written);
            Assert.True(records.Count >= lsn, $"LSN {lsn} was seen by a durable follower, then lost by a power loss at operation {operation}");
        }
    }
}
