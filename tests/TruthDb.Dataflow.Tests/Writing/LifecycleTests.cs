using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;
using TruthDb.Dataflow.Writing;

namespace TruthDb.Dataflow.Tests.Writing;

public sealed class LifecycleTests
{
    [Fact]
    public async Task WritePath_RunsOnTheNamedWriterThread_AndContinuationsDoNot()
    {
        var storage = new SimulatedStorage("sim://thread");
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            var opened = storage.OperationCount;
            var tasks = Enumerable.Range(0, 8).Select(p => Task.Run(async () =>
            {
                for (var i = 0; i < 60; i++)
                {
                    await wal.AppendAsync(Payloads.Make(p, i, 1500));
                    Assert.NotEqual(Wal.WriterThreadName, Thread.CurrentThread.Name);
                }
            }));
            await Task.WhenAll(tasks);

            var segmentIo = storage.Trace.Skip(opened)
                .Where(e => e.Name.EndsWith(SegmentNames.SegmentExtension, StringComparison.Ordinal) && e.Kind is OperationKind.Write or OperationKind.DataSync)
                .ToList();
            Assert.True(segmentIo.Count > 20);
            Assert.All(segmentIo, e => Assert.Equal(Wal.WriterThreadName, e.ThreadName));
            Assert.True(wal.GetStatistics().Segments > 1);
        }
    }

    [Fact]
    public async Task SegmentPreparation_RunsOnThePreparerThread_NeverOnThePool()
    {
        var storage = new SimulatedStorage("sim://preparer");
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            var opened = storage.OperationCount;
            for (var i = 0; i < 200; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 1500));
            }

            Assert.True(wal.GetStatistics().SegmentsCreated > 1, "the test should roll segments");

            // Preparing the next segment (reserving and syncing prepare-N.tmp, zero-filling it) runs on the
            // preparer's own thread: the writer may wait for it, so it must not wait for the pool.
            var preparation = storage.Trace.Skip(opened)
                .Where(e => SegmentNames.IsPrepared(e.Name) && e.Kind is OperationKind.Allocate or OperationKind.FullSync)
                .ToList();
            Assert.NotEmpty(preparation);
            Assert.All(preparation, e => Assert.Equal(SegmentPreparer.ThreadName, e.ThreadName));
        }
    }

    [Fact]
    public async Task SegmentPreparation_UnderWritten_ReservesWithoutZeroFilling()
    {
        var storage = new SimulatedStorage("sim://reserve-only");
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage, Durability.Written)))
        {
            var opened = storage.OperationCount;
            for (var i = 0; i < 200; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 1500));
            }

            Assert.True(wal.GetStatistics().SegmentsCreated > 1, "the test should roll segments");

            // Each next segment is reserved and synced; the only write into it before it becomes a
            // segment is its header (Sync zero-fills it first, so its syncs persist no metadata).
            var preparation = storage.Trace.Skip(opened).Where(e => SegmentNames.IsPrepared(e.Name)).ToList();
            Assert.Contains(preparation, e => e.Kind == OperationKind.Allocate);
            var writes = preparation.Where(e => e.Kind == OperationKind.Write).ToList();
            Assert.NotEmpty(writes);
            Assert.All(writes, e => Assert.Equal(SegmentHeader.Length, e.Length));
        }
    }

    [Fact]
    public async Task SecondOpen_OfTheSameDirectory_FailsNamingTheLock()
    {
        using var dir = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });

        var error = await Assert.ThrowsAsync<IOException>(async () => await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 }));

        Assert.Contains("already open by another writer", error.Message, StringComparison.Ordinal);
        await wal.AppendAsync(new byte[10]);
    }

    [Fact]
    public async Task SecondOpen_FromAnotherProcess_FailsNamingTheLock()
    {
        using var dir = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });
        await using var child = CrashChild.Start(dir.Path, producers: 1, segmentSize: 64 * 1024, ackTarget: 1);

        Assert.False(await child.Opened.WaitAsync(Timeouts.Unexpected), "a second process opened a log that is already open");
        var end = await child.DescribeEndAsync(Timeouts.Token());

        Assert.Contains("already open by another writer", end, StringComparison.Ordinal);
        Assert.Equal(1, await wal.AppendAsync(new byte[10]));
    }

    [Fact]
    public async Task Reopen_AfterDispose_TakesTheLockAgain()
    {
        using var dir = new TestDirectory();
        var options = new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 };
        await (await Wal.OpenAsync(options)).DisposeAsync();
        await using var wal = await Wal.OpenAsync(options);
        Assert.Equal(0, wal.FirstLsn);
        Assert.Equal(1, await wal.AppendAsync(new byte[1]));
        Assert.Equal(1, wal.FirstLsn);
    }

    [Fact]
    public async Task Append_AfterDispose_ThrowsObjectDisposed()
    {
        var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(new SimulatedStorage("sim://disposed")));
        await wal.AppendAsync(new byte[3]);
        await wal.DisposeAsync();
        await wal.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => { _ = wal.AppendAsync(new byte[3]).AsTask(); });
        Assert.Throws<ObjectDisposedException>(() => wal.TryAppend(new byte[3], out _));
    }

    [Fact]
    public async Task Record_LargerThanASegmentHolds_IsRefusedClearly_AndTheLargestFits()
    {
        var storage = new SimulatedStorage("sim://large");
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        var largest = (int)SegmentLayout.MaxPayload(SimulatedWorkload.SegmentSize);
        await wal.AppendAsync(new byte[100]);

        var error = Assert.Throws<ArgumentException>(() => { _ = wal.AppendAsync(new byte[largest + 1]).AsTask(); });
        Assert.Contains($"largest record a segment of {SimulatedWorkload.SegmentSize} bytes holds is {largest} bytes", error.Message, StringComparison.Ordinal);

        var big = Payloads.Make(1, 1, largest);
        Assert.Equal(2, await wal.AppendAsync(big));
        Assert.Equal(3, await wal.AppendAsync(new byte[5]));
        var records = await wal.ReadAllAsync();
        Assert.Equal(big, records[1].Payload);
        Assert.Equal(3, wal.GetStatistics().Segments);
    }

    [Fact]
    public async Task EmptyPayload_IsARecordToo()
    {
        var storage = new SimulatedStorage("sim://empty");
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            Assert.Equal(1, await wal.AppendAsync(ReadOnlyMemory<byte>.Empty));
            Assert.Equal(2, await wal.AppendAsync(new byte[] { 7 }));
        }

        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage.CrashImage(storage.OperationCount, CrashMode.DropUnsynced, 0))))
        {
            var records = await wal.ReadAllAsync();
            Assert.Empty(records[0].Payload);
            Assert.Equal(new byte[] { 7 }, records[1].Payload);
        }
    }

    [Fact]
    public async Task MaxBatchDelay_StillAcknowledgesEveryAppend()
    {
        var storage = new SimulatedStorage("sim://delay");
        var options = SimulatedWorkload.OptionsFor(storage);
        options.MaxBatchDelay = TimeSpan.FromMilliseconds(2);
        await using var wal = await Wal.OpenAsync(options);
        var tasks = Enumerable.Range(0, 200).Select(i => wal.AppendAsync(Payloads.Make(0, i, 30)).AsTask()).ToArray();
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), await Task.WhenAll(tasks));
        Assert.True(wal.GetStatistics().Batches < 200);
    }
}
