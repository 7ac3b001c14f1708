using System.Collections.Concurrent;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Writing;

/// <summary>Many producers on the real file system; one subclass per durability mode.</summary>
public abstract class ConcurrencyTests
{
    protected abstract Durability Durability { get; }

    [Fact]
    public async Task AppendAsync_64Producers_DenseLsnsInCallOrderAndByteExactAfterReopen()
    {
        const int Producers = 64;
        const int PerProducer = 300;
        using var dir = new TestDirectory();
        var options = new WalOptions { Directory = dir.Path, SegmentSize = 256 * 1024, Durability = Durability };
        var acks = new ConcurrentDictionary<long, byte[]>();
        await using (var wal = await Wal.OpenAsync(options))
        {
            var tasks = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
            {
                long previous = 0;
                for (var i = 0; i < PerProducer; i++)
                {
                    var payload = Payloads.Make(p, i, 12 + ((p * 37 + i * 11) % 900));
                    var lsn = await wal.AppendAsync(payload);
                    Assert.True(lsn > previous, $"producer {p}: LSN {lsn} after {previous}");
                    previous = lsn;
                    Assert.True(acks.TryAdd(lsn, payload), $"LSN {lsn} was given twice");
                }
            })).ToArray();
            await Task.WhenAll(tasks).WaitAsync(Timeouts.Unexpected);

            Assert.Equal(Producers * PerProducer, acks.Count);
            Assert.Equal(Producers * PerProducer, wal.WrittenLsn);
            Assert.True(wal.GetStatistics().Segments > 1, "the workload should roll segments");
        }

        await using (var wal = await Wal.OpenAsync(options))
        {
            Assert.Equal(Producers * PerProducer, wal.DurableLsn);
            var records = await wal.ReadAllAsync();
            Assert.Equal(Producers * PerProducer, records.Count);
            for (var i = 0; i < records.Count; i++)
            {
                Assert.Equal(i + 1, records[i].Lsn);
                Assert.Equal(acks[records[i].Lsn], records[i].Payload);
            }
        }
    }

    [Fact]
    public async Task AppendAsync_IssuedBackToBackWithoutAwaiting_GetLsnsInCallOrder()
    {
        using var dir = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024, Durability = Durability, MaxPendingBytes = 4096, MaxBatchBytes = 4096 });
        var pending = new List<Task<long>>();
        for (var i = 0; i < 2000; i++)
        {
            pending.Add(wal.AppendAsync(Payloads.Make(0, i, 100)).AsTask());
        }

        for (var i = 0; i < pending.Count; i++)
        {
            Assert.Equal(i + 1, await pending[i]);
        }
    }
}

public sealed class SyncConcurrencyTests : ConcurrencyTests
{
    protected override Durability Durability => Durability.Sync;
}

public sealed class WrittenConcurrencyTests : ConcurrencyTests
{
    protected override Durability Durability => Durability.Written;
}
