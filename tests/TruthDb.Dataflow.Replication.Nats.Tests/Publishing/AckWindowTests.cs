using TruthDb.Dataflow.Replication.Nats.Publishing;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Publishing;

public sealed class AckWindowTests
{
    // The tests' stream holds LSN x at sequence x + 100.
    private const long Offset = 100;

    [Fact]
    public void Add_WindowFull_HasNoRoomAndRefusesMore()
    {
        var window = new AckWindow(4);
        window.Reset(10, Offset);
        for (var lsn = 11; lsn <= 14; lsn++)
        {
            Assert.True(window.HasRoom(out _));
            window.Add(lsn, 1, 0);
        }

        Assert.False(window.HasRoom(out var changed));
        Assert.Throws<InvalidOperationException>(() => window.Add(15, 1, 0));
        window.Complete(11, Stored(11));
        Assert.True(changed.IsCompleted);
        Assert.True(window.HasRoom(out _));
        Assert.Equal(3, window.InFlight);
    }

    [Fact]
    public void Complete_OutOfOrder_AdvancesOnlyTheAcknowledgedPrefix()
    {
        var window = new AckWindow(8);
        window.Reset(0, Offset);
        for (var lsn = 1; lsn <= 4; lsn++)
        {
            window.Add(lsn, 10, 0);
        }

        Assert.Equal(0, window.Complete(3, Stored(3)).Records);
        Assert.Equal(0, window.Complete(2, Stored(2)).Records);
        Assert.Equal(0, window.Acked);
        var progress = window.Complete(1, Stored(1));
        Assert.Equal(3, progress.Records);
        Assert.Equal(30, progress.Bytes);
        Assert.Equal(3, window.Acked);
        Assert.False(window.Complete(2, Stored(2)).Matched);
    }

    [Fact]
    public void Complete_RejectionBehindPendingPublish_FaultsOnlyWhenThePrefixReachesIt()
    {
        var window = new AckWindow(8);
        window.Reset(0, Offset);
        window.Add(1, 1, 0);
        window.Add(2, 1, 0);
        window.Add(3, 1, 0);
        window.Complete(2, new AckResult(AckKind.Rejected, 0, false, 10077, "maximum messages exceeded"));
        Assert.Null(window.Fault);
        window.Complete(1, Stored(1));
        var fault = Assert.IsType<WindowFault>(window.Fault);
        Assert.True(fault.Rejected);
        Assert.Equal(2, fault.Lsn);
        Assert.Equal(1, window.Acked);
        Assert.False(window.Complete(3, Stored(3)).Matched);
        Assert.Equal(1, window.Acked);
    }

    [Fact]
    public void Complete_UnknownOutcome_FaultsAtOnceForARetry()
    {
        var window = new AckWindow(8);
        window.Reset(5, Offset);
        window.Add(6, 1, 0);
        window.Complete(6, new AckResult(AckKind.Unknown, 0, false, 503, "no responders"));
        var fault = Assert.IsType<WindowFault>(window.Fault);
        Assert.False(fault.Rejected);
        Assert.Equal(5, window.Acked);
        window.Reset(6, Offset);
        Assert.Null(window.Fault);
        Assert.Equal(6, window.Acked);
    }

    [Fact]
    public void Complete_StoredAtAnotherSequence_FaultsForAReconciliation()
    {
        var window = new AckWindow(8);
        window.Reset(5, Offset);
        window.Add(6, 1, 0);
        window.Add(7, 1, 0);
        window.Complete(6, Stored(6));
        window.Complete(7, new AckResult(AckKind.Stored, 7 + Offset + 1, false, 0, string.Empty));
        var fault = Assert.IsType<WindowFault>(window.Fault);
        Assert.False(fault.Rejected);
        Assert.Equal(7, fault.Lsn);
        Assert.Contains("sequence 108, not at sequence 107", fault.Reason, StringComparison.Ordinal);
        Assert.Equal(6, window.Acked);
    }

    [Fact]
    public void Complete_InProcessThenLaterRecordStored_CountsBothAsStored()
    {
        var window = new AckWindow(8);
        window.Reset(5, Offset);
        window.Add(6, 1, 0);
        window.Add(7, 1, 0);
        window.Add(8, 1, 0);
        window.Complete(6, new AckResult(AckKind.InProcess, 0, true, 0, "in process"));
        Assert.Equal(5, window.Acked);
        Assert.True(window.TryGetOldestPending(out var oldest, out _, out var inProcess));
        Assert.Equal((6L, true), (oldest, inProcess));
        window.Complete(7, Stored(7));
        Assert.Equal(7, window.Acked);
        Assert.Null(window.Fault);
        window.Complete(8, new AckResult(AckKind.InProcess, 0, true, 0, "in process"));
        Assert.Equal(7, window.Acked);
    }

    private static AckResult Stored(long lsn) => new(AckKind.Stored, (ulong)(lsn + Offset), false, 0, string.Empty);
}
