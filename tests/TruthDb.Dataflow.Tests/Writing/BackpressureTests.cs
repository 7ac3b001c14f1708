using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Writing;

public sealed class BackpressureTests
{
    private const int MaxPending = 8192;

    [Fact]
    public async Task PendingQueueFull_TryAppendSaysNoAndAppendAsyncWaitsInCallOrder()
    {
        var gated = new GatedStorage(new SimulatedStorage("sim://gated"));
        await using var wal = await Wal.OpenAsync(Options(gated));
        gated.Close();
        var first = wal.AppendAsync(Payloads.Make(0, 0, 100)).AsTask();
        await gated.WaitForHeldSyncAsync(Timeouts.Token());

        // The writer is held in its sync; fill the pending bound.
        var accepted = new List<Task<long>>();
        while (wal.TryAppend(Payloads.Make(1, accepted.Count, 1000), out var lsn))
        {
            accepted.Add(lsn.AsTask());
            Assert.True(accepted.Count < 100, "TryAppend never said no");
        }

        Assert.True(accepted.Count is > 0 and <= MaxPending / 1000);
        var waitingA = wal.AppendAsync(Payloads.Make(2, 0, 1000)).AsTask();
        var waitingB = wal.AppendAsync(Payloads.Make(2, 1, 10)).AsTask();
        Assert.False(wal.TryAppend(Payloads.Make(3, 0, 1), out _));
        Assert.False(waitingA.IsCompleted);
        Assert.False(waitingB.IsCompleted);
        Assert.True(wal.GetStatistics().QueuedAppends >= 2);

        gated.Open();
        Assert.Equal(1, await first);
        var lsns = await Task.WhenAll(accepted);
        Assert.Equal(Enumerable.Range(2, accepted.Count).Select(i => (long)i), lsns);
        Assert.Equal(accepted.Count + 2, await waitingA);
        Assert.Equal(accepted.Count + 3, await waitingB);
    }

    [Fact]
    public async Task WaitingAppend_Cancelled_FailsAndIsNeverWritten()
    {
        var gated = new GatedStorage(new SimulatedStorage("sim://cancel"));
        await using var wal = await Wal.OpenAsync(Options(gated));
        gated.Close();
        var first = wal.AppendAsync(Payloads.Make(0, 0, 100)).AsTask();
        await gated.WaitForHeldSyncAsync(Timeouts.Token());
        while (wal.TryAppend(Payloads.Make(1, 0, 1000), out var accepted))
        {
            _ = accepted.AsTask();
        }

        using var cts = new CancellationTokenSource();
        var cancelled = wal.AppendAsync(Payloads.Make(9, 9, 1000), cts.Token).AsTask();
        var after = wal.AppendAsync(Payloads.Make(2, 0, 1000)).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        gated.Open();
        var lsn = await after;
        await first;
        var records = await wal.ReadAllAsync();
        Assert.Equal(lsn, records.Count);
        Assert.DoesNotContain(records, r => Payloads.IsIntact(r.Payload, out var p, out _) && p == 9);
    }

    [Fact]
    public async Task Dispose_WithAppendsWaitingForRoom_WritesThemAll()
    {
        var gated = new GatedStorage(new SimulatedStorage("sim://drain"));
        var wal = await Wal.OpenAsync(Options(gated));
        gated.Close();
        var pending = new List<Task<long>> { wal.AppendAsync(Payloads.Make(0, 0, 100)).AsTask() };
        await gated.WaitForHeldSyncAsync(Timeouts.Token());
        for (var i = 1; i < 40; i++)
        {
            pending.Add(wal.AppendAsync(Payloads.Make(0, i, 1000)).AsTask());
        }

        var disposing = wal.DisposeAsync().AsTask();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await wal.AppendAsync(Payloads.Make(1, 0, 10)));
        gated.Open();
        await disposing.WaitAsync(Timeouts.Unexpected);

        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), await Task.WhenAll(pending));
        Assert.Equal(40, wal.DurableLsn);
    }

    private static WalOptions Options(GatedStorage storage) => new()
    {
        Storage = storage,
        SegmentSize = 256 * 1024,
        MaxBatchBytes = 4096,
        MaxPendingBytes = MaxPending,
    };
}
