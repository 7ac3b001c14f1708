using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Writing;

public sealed class BatchAppendTests
{
    [Fact]
    public async Task AppendBatch_FromConcurrentProducers_GivesEachBatchConsecutiveLsnsInOrder()
    {
        var storage = new SimulatedStorage("sim://batch");
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<long, byte[]>();
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            var producers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
            {
                var random = new Random(p);
                for (var b = 0; b < 50; b++)
                {
                    var batch = Enumerable.Range(0, random.Next(1, 40)).Select(i => Payloads.Make(p, b * 100 + i, random.Next(1, 300))).ToArray();
                    var first = await wal.AppendBatchAsync([.. batch.Select(x => (ReadOnlyMemory<byte>)x)]);
                    for (var i = 0; i < batch.Length; i++)
                    {
                        Assert.True(acknowledged.TryAdd(first + i, batch[i]), $"LSN {first + i} given twice");
                    }
                }
            }));
            await Task.WhenAll(producers).WaitAsync(Timeouts.Unexpected);
            Assert.Equal(acknowledged.Count, wal.GetStatistics().Appends);
        }

        await using var reopened = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage.CrashImage(storage.OperationCount, CrashMode.DropUnsynced, 0)));
        var records = await reopened.ReadAllAsync();
        Assert.Equal(acknowledged.Count, records.Count);
        foreach (var (lsn, payload) in records)
        {
            Assert.Equal(acknowledged[lsn], payload);
        }
    }

    [Fact]
    public async Task AppendBatch_ThatDoesNotFitTheActiveSegment_GoesWholeIntoTheNext()
    {
        using var dir = new TestDirectory();
        await using (var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 }))
        {
            for (var i = 0; i < 50; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 1000));
            }

            var batch = Enumerable.Range(0, 20).Select(i => (ReadOnlyMemory<byte>)Payloads.Make(1, i, 1000)).ToArray();
            Assert.Equal(51, await wal.AppendBatchAsync(batch));
        }

        var frames = LogInspector.Dump(dir.Path).Where(f => f.Lsn >= 51).ToList();
        Assert.Equal(20, frames.Count);
        Assert.Single(frames.Select(f => f.Segment).Distinct());
        Assert.NotEqual(LogInspector.Dump(dir.Path).Single(f => f.Lsn == 50).Segment, frames[0].Segment);
        Assert.Equal(LogCondition.Clean, LogInspector.Verify(dir.Path).Condition);
    }

    [Fact]
    public async Task AppendBatch_BadBatches_AreRefusedWithTheReason()
    {
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(new SimulatedStorage("sim://batch-bad")));

        var empty = Assert.Throws<ArgumentException>(() => { _ = wal.AppendBatchAsync([]).AsTask(); });
        Assert.Contains("at least one record", empty.Message, StringComparison.Ordinal);

        var tooBig = Enumerable.Range(0, 40).Select(i => (ReadOnlyMemory<byte>)new byte[2000]).ToArray();
        var split = Assert.Throws<ArgumentException>(() => { _ = wal.AppendBatchAsync(tooBig).AsTask(); });
        Assert.Contains("split the batch", split.Message, StringComparison.Ordinal);

        var oneTooLarge = new ReadOnlyMemory<byte>[] { new byte[10], new byte[SimulatedWorkload.SegmentSize] };
        var large = Assert.Throws<ArgumentException>(() => { _ = wal.AppendBatchAsync(oneTooLarge).AsTask(); });
        Assert.Contains("largest record a segment", large.Message, StringComparison.Ordinal);

        // Nothing of the refused batches was appended.
        Assert.Equal(0, wal.WrittenLsn);
        Assert.Equal(1, await wal.AppendBatchAsync(new ReadOnlyMemory<byte>[] { new byte[10] }));
    }

    [Fact]
    public async Task AppendBatch_OnAFaultedLog_FailsWholeAndNothingIsAcknowledged()
    {
        var storage = new SimulatedStorage("sim://batch-fault");
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        await wal.AppendAsync(Payloads.Make(0, 0, 50));
        storage.FailOperation(OperationKind.DataSync, 1, StorageErrors.IoErrno);

        var batch = Enumerable.Range(1, 10).Select(i => (ReadOnlyMemory<byte>)Payloads.Make(0, i, 50)).ToArray();
        await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendBatchAsync(batch));
        await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendBatchAsync(batch));
        Assert.Equal(1, wal.DurableLsn);
    }

    [Fact]
    public async Task AppendBatch_LargerThanMaxPendingBytes_StillGoesWhenNothingElseIsPending()
    {
        var options = SimulatedWorkload.OptionsFor(new SimulatedStorage("sim://batch-pending"));
        options.MaxBatchBytes = 4096;
        options.MaxPendingBytes = 8192;
        await using var wal = await Wal.OpenAsync(options);
        var batch = Enumerable.Range(0, 10).Select(i => (ReadOnlyMemory<byte>)Payloads.Make(0, i, 3000)).ToArray();
        Assert.Equal(1, await wal.AppendBatchAsync(batch.AsSpan(0, 5)).AsTask().WaitAsync(Timeouts.Unexpected));
        Assert.Equal(6, await wal.AppendBatchAsync(batch.AsSpan(5)).AsTask().WaitAsync(Timeouts.Unexpected));
        Assert.Equal(10, wal.DurableLsn);
        var records = await wal.ReadAllAsync();
        Assert.Equal(batch.Select(b => b.ToArray()), records.Select(r => r.Payload));
    }
}
