using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Reading;

public sealed class CrossProcessReaderTests
{
    [Fact]
    public async Task WalReader_WhileTheWriterHoldsTheLock_TailsEveryRecordUpToTheDurableWatermark()
    {
        using var dir = new TestDirectory();
        var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });
        await wal.AppendAsync(Payloads.Make(0, 0, 100));
        var filesBefore = Directory.GetFiles(dir.Path).Select(Path.GetFileName).Where(f => !f!.EndsWith(".tmp", StringComparison.Ordinal)).ToList();

        using var reader = WalReader.Open(dir.Path);
        Assert.True(reader.IsWriterOpen);
        Assert.Equal(1, reader.DurableLsn);
        using var cts = new CancellationTokenSource(Timeouts.Unexpected);
        var tail = Task.Run(async () =>
        {
            var seen = new List<(long, byte[])>();
            await foreach (var record in reader.ReadAsync(0, new ReadOptions { Follow = true }, cts.Token))
            {
                Assert.True(record.Lsn <= wal.DurableLsn, "the reader passed the durable watermark");
                seen.Add((record.Lsn, record.ToArray()));
                if (seen.Count == 801)
                {
                    break;
                }
            }

            return seen;
        });

        var producers = Enumerable.Range(1, 4).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                await wal.AppendAsync(Payloads.Make(p, i, 300));
            }
        }));
        await Task.WhenAll(producers);
        var records = await tail.WaitAsync(Timeouts.Unexpected);
        Assert.Equal(Enumerable.Range(1, 801).Select(i => (long)i), records.Select(r => r.Item1));
        Assert.All(records, r => Assert.True(Payloads.IsIntact(r.Item2, out _, out _)));

        // The reader never wrote into the directory (the writer's new segments aside).
        await wal.DisposeAsync();
        Assert.False(reader.IsWriterOpen);
        var snapshot = new List<long>();
        await foreach (var record in reader.ReadAsync(500))
        {
            snapshot.Add(record.Lsn);
        }

        Assert.Equal(Enumerable.Range(500, 302).Select(i => (long)i), snapshot);
        Assert.All(filesBefore, f => Assert.True(File.Exists(Path.Combine(dir.Path, f!))));
    }

    [Fact]
    public async Task WalReader_InTheTestProcess_SeesWhatACrashChildWritesBeforeItIsKilled()
    {
        using var dir = new TestDirectory();
        await using (var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 }))
        {
            await wal.AppendAsync(Payloads.Make(0, 0, 20));
        }

        await using var child = CrashChild.Start(dir.Path, producers: 2, segmentSize: 64 * 1024, ackTarget: 300);
        Assert.True(await child.Opened.WaitAsync(Timeouts.Unexpected));
        using var reader = WalReader.Open(dir.Path);
        Assert.True(await child.AcksReached.WaitAsync(Timeouts.Unexpected));
        var seen = 0L;
        using var cts = new CancellationTokenSource(Timeouts.Unexpected);
        await foreach (var record in reader.ReadAsync(1, new ReadOptions { Follow = true }, cts.Token))
        {
            Assert.Equal(seen + 1, record.Lsn);
            Assert.True(Payloads.IsIntact(record.Payload.Span, out _, out _));
            seen = record.Lsn;
            if (seen >= 200)
            {
                break;
            }
        }

        await child.KillAsync(Timeouts.Token());
        Assert.Equal(200, seen);
    }
}
