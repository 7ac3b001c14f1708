using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Writing;

public sealed class FaultTests
{
    [Theory]
    [InlineData("DataSync")]
    [InlineData("FullSync")]
    [InlineData("Write")]
    public async Task EioOnKthOperation_ForEveryK_FaultsStopsAcknowledgingAndKeepsEveryAcknowledgedRecord(string operation)
    {
        var kind = Enum.Parse<OperationKind>(operation);
        var clean = await SimulatedWorkload.RunAsync(seed: 31, Durability.Sync, producers: 4, records: 200);
        var total = clean.Storage.Trace.Count(e => e.Kind == kind);
        Assert.True(total >= 3, $"the workload did only {total} {kind} operations");
        var faulted = 0;
        for (var k = 1; k <= total; k++)
        {
            var context = $"EIO on {kind} #{k} of {total}";
            SimulatedWorkload workload;
            try
            {
                workload = await SimulatedWorkload.RunAsync(seed: 31, Durability.Sync, producers: 4, records: 200, arm: s => s.FailOperation(kind, k, StorageErrors.IoErrno));
            }
            catch (IOException ex) when (ex is not WalCorruptedException)
            {
                // The failure hit the creation of the log: opening failed loudly. Nothing was acknowledged.
                Assert.Contains("Input/output error", ex.Message, StringComparison.Ordinal);
                continue;
            }

            if (workload.Failures.IsEmpty)
            {
                // The failed operation came after the last append was acknowledged (the final close).
                continue;
            }

            faulted++;
            Assert.All(workload.Failures, f => Assert.IsType<WalFaultedException>(f));
            var error = (WalFaultedException)workload.Failures.First();
            Assert.True(error.InnerException is IOException { HResult: StorageErrors.IoErrno }, $"{context}: {error}");
            var durableAfter = workload.PromisedAt(int.MaxValue).Durable;
            Assert.True(workload.Acknowledged.Keys.DefaultIfEmpty(0).Max() <= durableAfter, $"{context}: an append was acknowledged beyond the durable watermark");

            var records = await LogChecks.RecoverAsync(workload.Storage.CrashImage(workload.Storage.OperationCount, CrashMode.DropUnsynced, k));
            LogChecks.AssertValidPrefix(records, workload, durableAfter, context);
            Assert.True(workload.Acknowledged.Keys.All(lsn => lsn <= records.Count), $"{context}: an acknowledged record is missing after reopen");
        }

        Assert.True(faulted > 0 && faulted >= (total - 2) / 2, $"only {faulted} of {total} injected failures faulted the log");
    }

    [Fact]
    public async Task FaultedLog_LaterAppends_FailAndWatermarkStays()
    {
        var storage = new SimulatedStorage("sim://faulted");
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        Assert.Equal(1, await wal.AppendAsync(Payloads.Make(0, 0, 50)));
        storage.FailOperation(OperationKind.DataSync, 1, StorageErrors.IoErrno);

        var first = await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendAsync(Payloads.Make(0, 1, 50)));
        for (var i = 2; i < 10; i++)
        {
            var later = await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendAsync(Payloads.Make(0, i, 50)));
            Assert.Same(first.InnerException, later.InnerException);
        }

        Assert.Equal(1, wal.DurableLsn);
        var syncsBefore = storage.Trace.Count(e => e.Kind == OperationKind.DataSync);
        await wal.DisposeAsync();
        Assert.Equal(syncsBefore, storage.Trace.Count(e => e.Kind == OperationKind.DataSync));
        Assert.Equal(1, wal.DurableLsn);
    }

    [Fact]
    public async Task DiskFullDuringWrite_FaultsWithAMessageSayingSo()
    {
        var storage = new SimulatedStorage("sim://enospc-write");
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        await wal.AppendAsync(Payloads.Make(0, 0, 50));

        // The active segment's next write: the preparer may be writing the next segment meanwhile.
        storage.FailOperation(OperationKind.Write, 1, StorageErrors.NoSpaceErrno, fileName: "00000000000000000001.wal");

        var error = await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendAsync(Payloads.Make(0, 1, 50)));

        Assert.Contains("disk is full", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoSpaceForNextSegment_AppendsGetLogFullUntilSpaceIsFreed()
    {
        var storage = new SimulatedStorage("sim://full") { CapacityBytes = SimulatedWorkload.SegmentSize * 3 / 2 };
        var acknowledged = new Dictionary<long, byte[]>();
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            WalFullException? full = null;
            for (var i = 0; full is null; i++)
            {
                var payload = Payloads.Make(0, i, 500);
                try
                {
                    acknowledged.Add(await wal.AppendAsync(payload), payload);
                }
                catch (WalFullException ex)
                {
                    full = ex;
                }

                Assert.True(i < 1000, "the log never filled up");
            }

            Assert.Contains("is full", full.Message, StringComparison.Ordinal);
            Assert.True(StorageErrors.IsDiskFull(full.InnerException!));
            await Assert.ThrowsAsync<WalFullException>(async () => await wal.AppendAsync(Payloads.Make(0, -1, 500)));
            Assert.Equal(acknowledged.Count, wal.DurableLsn);
            Assert.Equal(acknowledged.Count, (await wal.ReadAllAsync()).Count);
            Assert.DoesNotContain(storage.ListFiles(), n => n.EndsWith(".tmp", StringComparison.Ordinal));

            storage.CapacityBytes = null;
            for (var i = 0; i < 50; i++)
            {
                var payload = Payloads.Make(1, i, 500);
                var lsn = await wal.AppendAsync(payload);
                Assert.Equal(acknowledged.Count + 1, lsn);
                acknowledged.Add(lsn, payload);
            }
        }

        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage.CrashImage(storage.OperationCount, CrashMode.DropUnsynced, 0))))
        {
            var records = await wal.ReadAllAsync();
            Assert.Equal(acknowledged.Count, records.Count);
            Assert.All(records, r => Assert.Equal(acknowledged[r.Lsn], r.Payload));
        }
    }
}
