using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;
using TruthDb.Dataflow.Writing;

namespace TruthDb.Dataflow.Tests.Writing;

/// <summary>
/// Under <see cref="Durability.Written"/> the syncs that make records durable run on the flusher
/// thread while the writer goes on writing: appends never wait behind them, a sync covers exactly
/// what was written before it started, a failed one faults the log, and a power cut at any point of
/// such interleavings keeps every record the durable watermark covered.
/// </summary>
public sealed class BackgroundSyncTests
{
    [Fact]
    public async Task AppendsComplete_WhileASyncIsHeld_AndTheSyncCoversOnlyWhatWasWrittenBeforeIt()
    {
        var gated = new GatedStorage(new SimulatedStorage("sim://background-held"));
        await using var wal = await Wal.OpenAsync(WrittenOptions(gated, TimeSpan.FromHours(1)));
        for (var i = 0; i < 10; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 100));
        }

        gated.Close();
        var flush = wal.FlushAsync().AsTask();
        await gated.WaitForHeldSyncAsync(Timeouts.Token());

        // The sync is held: appends go on being written and acknowledged regardless.
        for (var i = 10; i < 40; i++)
        {
            Assert.Equal(i + 1, await wal.AppendAsync(Payloads.Make(0, i, 100)).AsTask().WaitAsync(Timeouts.Unexpected));
        }

        Assert.Equal(40, wal.WrittenLsn);
        Assert.Equal(0, wal.DurableLsn);
        Assert.False(flush.IsCompleted, "the flush returned while its sync was held");

        gated.Open();
        Assert.Equal(10, await flush.WaitAsync(Timeouts.Unexpected));
        Assert.Equal(10, wal.DurableLsn);
        Assert.Equal(40, await wal.FlushAsync());
        Assert.Equal(40, wal.DurableLsn);
    }

    [Fact]
    public async Task PeriodicSyncs_RunOnTheFlusherThread_AndWritesOnTheWriterThread()
    {
        var storage = new SimulatedStorage("sim://background-threads");
        await using (var wal = await Wal.OpenAsync(WrittenOptions(storage, TimeSpan.FromMilliseconds(1))))
        {
            var opened = storage.OperationCount;
            for (var i = 0; i < 200 && wal.DurableLsn < 100; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 100));
                await Task.Delay(1);
            }

            Assert.True(wal.DurableLsn >= 100, $"the periodic syncs made only LSN {wal.DurableLsn} durable");
            var segmentIo = storage.Trace.Skip(opened).Where(e => e.Name.EndsWith(SegmentNames.SegmentExtension, StringComparison.Ordinal)).ToList();
            var syncs = segmentIo.Where(e => e.Kind == OperationKind.DataSync).ToList();
            Assert.NotEmpty(syncs);
            Assert.All(syncs, e => Assert.Equal(GroupCommit.FlusherThreadName, e.ThreadName));
            Assert.All(segmentIo.Where(e => e.Kind == OperationKind.Write), e => Assert.Equal(Wal.WriterThreadName, e.ThreadName));
        }
    }

    [Theory]
    [InlineData(StorageErrors.IoErrno)]
    [InlineData(StorageErrors.NoSpaceErrno)]
    public async Task AFailedPeriodicSync_FaultsTheLog_AndLaterAppendsFail(int errno)
    {
        var storage = new SimulatedStorage("sim://background-fault-" + errno);
        await using var wal = await Wal.OpenAsync(WrittenOptions(storage, TimeSpan.FromMilliseconds(1)));
        storage.FailOperation(OperationKind.DataSync, 1, errno);

        WalFaultedException? error = null;
        using var timeout = new CancellationTokenSource(Timeouts.Unexpected);
        for (var i = 0; error is null; i++)
        {
            timeout.Token.ThrowIfCancellationRequested();
            try
            {
                await wal.AppendAsync(Payloads.Make(0, i, 100));
                await Task.Delay(1, timeout.Token);
            }
            catch (WalFaultedException ex)
            {
                error = ex;
            }
        }

        Assert.IsType<IOException>(error.InnerException, exactMatch: false);
        Assert.Equal(errno == StorageErrors.NoSpaceErrno, error.Message.Contains("the disk is full", StringComparison.Ordinal));
        Assert.Contains("Records up to LSN 0 are durable; records after it were acknowledged as written and may not reach the disk", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, wal.DurableLsn);
        await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendAsync(Payloads.Make(0, 999, 100)));
        await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.FlushAsync());
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public async Task PowerLoss_WhileSyncsAndWritesInterleave_KeepsEveryRecordDeclaredDurable(int seed)
    {
        // Each producer flushes every fifth step while the others append: such a flush runs on the
        // flusher thread (and syncs, unless a sync since the producer's last append already covered
        // it), and the producer's next append is written after it.
        var workload = await SimulatedWorkload.RunAsync(seed, Durability.Written, producers: 6, records: 400, flushEvery: 5);
        Assert.Empty(workload.Failures);
        var trace = workload.Storage.Trace;

        // The workload must really have synced on the flusher thread between the writer's writes.
        var flusherSyncs = trace.Select((e, i) => (e, i))
            .Where(x => x.e.Kind == OperationKind.DataSync && x.e.ThreadName == GroupCommit.FlusherThreadName)
            .Select(x => x.i)
            .ToList();
        Assert.NotEmpty(flusherSyncs);
        Assert.Contains(flusherSyncs, i => trace.Skip(i + 1).Any(e => e.Kind == OperationKind.Write && e.ThreadName == Wal.WriterThreadName));

        var operations = workload.Storage.OperationCount;
        for (var k = 0; k <= operations; k++)
        {
            var promised = workload.PromisedAt(k);
            var context = $"seed {seed}, crash before operation {k} of {operations}";
            var records = await LogChecks.RecoverAsync(workload.Storage.CrashImage(k, CrashMode.DropUnsynced, 0), Durability.Written);
            LogChecks.AssertValidPrefix(records, workload, promised.Durable, context);
        }
    }

    private static WalOptions WrittenOptions(IWalStorage storage, TimeSpan flushInterval) => new()
    {
        Storage = storage,
        SegmentSize = 1024 * 1024,
        Durability = Durability.Written,
        FlushInterval = flushInterval,
    };
}
