using TruthDb.Dataflow.Replication.Nats.Publishing;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Publishing;

public sealed class AckWindowTests
{
    // The tests' stream's last sequence when the epoch begins: message k goes to sequence 100 + k.
    private const ulong LastSequence = 100;

    [Fact]
    public void Add_WindowFull_HasNoRoomAndRefusesMore()
    {
        var window = new AckWindow(4, long.MaxValue);
        window.Reset(10, LastSequence);
        for (var lsn = 11; lsn <= 14; lsn++)
        {
            Assert.True(window.HasRoom(1, out _));
            window.Add(lsn, lsn, 1, 1, 0);
        }

        Assert.False(window.HasRoom(1, out var changed));
        Assert.Throws<InvalidOperationException>(() => window.Add(15, 15, 1, 1, 0));
        window.Complete(1, Stored(1));
        Assert.True(changed.IsCompleted);
        Assert.True(window.HasRoom(1, out _));
        Assert.Equal(3, window.InFlight);
    }

    [Fact]
    public void HasRoom_BytesInFlightAtTheBound_WaitsForAnAcknowledgementButNeverBlocksALoneMessage()
    {
        var window = new AckWindow(100, 1000);
        window.Reset(0, LastSequence);
        Assert.True(window.HasRoom(5000, out _));
        window.Add(1, 10, 4000, 5000, 0);
        Assert.False(window.HasRoom(1, out _));
        window.Complete(1, Stored(1));
        window.Add(11, 12, 500, 600, 0);
        Assert.True(window.HasRoom(400, out _));
        Assert.False(window.HasRoom(401, out var changed));
        window.Complete(2, Stored(2));
        Assert.True(changed.IsCompleted);
        Assert.Equal(0, window.BytesInFlight);
        Assert.True(window.HasRoom(1000, out _));
    }

    [Fact]
    public void Add_NotTheNextLsn_Throws()
    {
        var window = new AckWindow(4, long.MaxValue);
        window.Reset(10, LastSequence);
        window.Add(11, 20, 1, 1, 0);
        Assert.Throws<InvalidOperationException>(() => window.Add(22, 30, 1, 1, 0));
        Assert.Throws<InvalidOperationException>(() => window.Add(21, 20, 1, 1, 0));
        Assert.Equal(2, window.Add(21, 21, 1, 1, 0));
    }

    [Fact]
    public void Complete_OutOfOrder_AdvancesOnlyTheAcknowledgedPrefix()
    {
        var window = new AckWindow(8, long.MaxValue);
        window.Reset(0, LastSequence);
        window.Add(1, 10, 100, 1, 0);
        window.Add(11, 20, 100, 1, 0);
        window.Add(21, 25, 50, 1, 0);
        window.Add(26, 26, 1, 1, 0);

        Assert.Equal(0, window.Complete(3, Stored(3)).Records);
        Assert.Equal(0, window.Complete(2, Stored(2)).Records);
        Assert.Equal(0, window.Acked);
        var progress = window.Complete(1, Stored(1));
        Assert.Equal((3, 25L, 250L), (progress.Messages, progress.Records, progress.Bytes));
        Assert.Equal(25, window.Acked);
        Assert.Equal(1, window.InFlight);
        Assert.False(window.Complete(2, Stored(2)).Matched);
    }

    [Fact]
    public void Complete_RejectionBehindPendingPublish_FaultsOnlyWhenThePrefixReachesIt()
    {
        var window = new AckWindow(8, long.MaxValue);
        window.Reset(0, LastSequence);
        window.Add(1, 5, 1, 1, 0);
        window.Add(6, 9, 1, 1, 0);
        window.Add(10, 12, 1, 1, 0);
        window.Complete(2, new AckResult(AckKind.Rejected, 0, false, 10077, "maximum messages exceeded"));
        Assert.Null(window.Fault);
        window.Complete(1, Stored(1));
        var fault = Assert.IsType<WindowFault>(window.Fault);
        Assert.True(fault.Rejected);
        Assert.Equal(6, fault.Lsn);
        Assert.Equal(5, window.Acked);
        Assert.False(window.Complete(3, Stored(3)).Matched);
        Assert.Equal(5, window.Acked);
    }

    [Fact]
    public void Complete_UnknownOutcome_FaultsAtOnceForARetry()
    {
        var window = new AckWindow(8, long.MaxValue);
        window.Reset(5, LastSequence);
        window.Add(6, 8, 1, 1, 0);
        window.Complete(1, new AckResult(AckKind.Unknown, 0, false, 503, "no responders"));
        var fault = Assert.IsType<WindowFault>(window.Fault);
        Assert.False(fault.Rejected);
        Assert.Equal(6, fault.Lsn);
        Assert.Equal(5, window.Acked);
        window.Reset(5, LastSequence);
        Assert.Null(window.Fault);
        Assert.Equal(5, window.Acked);
    }

    [Fact]
    public void Complete_StoredAtAnotherSequence_FaultsForAReconciliation()
    {
        var window = new AckWindow(8, long.MaxValue);
        window.Reset(5, LastSequence);
        window.Add(6, 6, 1, 1, 0);
        window.Add(7, 9, 1, 1, 0);
        window.Complete(1, Stored(1));
        window.Complete(2, new AckResult(AckKind.Stored, LastSequence + 3, false, 0, string.Empty));
        var fault = Assert.IsType<WindowFault>(window.Fault);
        Assert.False(fault.Rejected);
        Assert.Equal(7, fault.Lsn);
        Assert.Contains("LSN 7 to 9 was acknowledged at stream sequence 103, not at sequence 102", fault.Reason, StringComparison.Ordinal);
        Assert.Equal(6, window.Acked);
    }

    [Fact]
    public void Complete_InProcessThenLaterMessageStored_CountsBothAsStored()
    {
        var window = new AckWindow(8, long.MaxValue);
        window.Reset(5, LastSequence);
        window.Add(6, 6, 1, 1, 0);
        window.Add(7, 10, 1, 1, 0);
        window.Add(11, 11, 1, 1, 0);
        window.Complete(1, new AckResult(AckKind.InProcess, 0, true, 0, "in process"));
        Assert.Equal(5, window.Acked);
        Assert.True(window.TryGetOldestPending(out var oldest, out _, out var inProcess));
        Assert.Equal((6L, true), (oldest, inProcess));
        window.Complete(2, Stored(2));
        Assert.Equal(10, window.Acked);
        Assert.Null(window.Fault);
        window.Complete(3, new AckResult(AckKind.InProcess, 0, true, 0, "in process"));
        Assert.Equal(10, window.Acked);
    }

    private static AckResult Stored(long number) => new(AckKind.Stored, LastSequence + (ulong)number, false, 0, string.Empty);
}
