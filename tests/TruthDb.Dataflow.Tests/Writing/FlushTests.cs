using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Writing;

public sealed class FlushTests
{
    [Fact]
    public async Task FlushAsync_OnAWrittenLog_MakesEveryAcknowledgedRecordSurviveAPowerLoss()
    {
        var storage = new SimulatedStorage("sim://flush");
        var options = SimulatedWorkload.OptionsFor(storage, Durability.Written);
        options.FlushInterval = TimeSpan.FromMinutes(10);
        int crashAt;
        await using (var wal = await Wal.OpenAsync(options))
        {
            for (var i = 0; i < 100; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 80));
            }

            Assert.Equal(100, wal.WrittenLsn);
            Assert.True(wal.DurableLsn < 100, $"nothing should have synced the records yet (durable LSN {wal.DurableLsn})");
            var syncs = storage.Trace.Count(e => e.Kind == OperationKind.DataSync);

            Assert.Equal(100, await wal.FlushAsync());
            Assert.Equal(100, wal.DurableLsn);
            Assert.Equal(syncs + 1, storage.Trace.Count(e => e.Kind == OperationKind.DataSync));

            // Nothing new written: no sync.
            Assert.Equal(100, await wal.FlushAsync());
            Assert.Equal(syncs + 1, storage.Trace.Count(e => e.Kind == OperationKind.DataSync));
            await wal.AppendAsync(Payloads.Make(0, 100, 80));
            crashAt = storage.OperationCount;
        }

        await using var reopened = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage.CrashImage(crashAt, CrashMode.DropUnsynced, 0)));
        var records = await reopened.ReadAllAsync(0);
        Assert.Equal(100, records.Count);
        Assert.All(records, r => Assert.True(Payloads.IsIntact(r.Payload.ToArray(), out _, out _)));
    }

    [Fact]
    public async Task FlushAsync_WhenTheSyncFails_FaultsTheLogAndNeverRetries()
    {
        var storage = new SimulatedStorage("sim://flush-fault");
        var options = SimulatedWorkload.OptionsFor(storage, Durability.Written);
        options.FlushInterval = TimeSpan.FromMinutes(10);
        await using var wal = await Wal.OpenAsync(options);
        await wal.AppendAsync(Payloads.Make(0, 0, 80));
        storage.FailOperation(OperationKind.DataSync, 1, StorageErrors.IoErrno);

        var error = await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.FlushAsync());
        Assert.IsType<IOException>(error.InnerException, exactMatch: false);
        await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.FlushAsync());
        await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendAsync(Payloads.Make(0, 1, 80)));
        Assert.Equal(0, wal.DurableLsn);
    }

    [Fact]
    public async Task FlushAsync_AfterDispose_Throws()
    {
        var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(new SimulatedStorage("sim://flush-disposed")));
        await wal.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => { _ = wal.FlushAsync().AsTask(); });
    }
}
