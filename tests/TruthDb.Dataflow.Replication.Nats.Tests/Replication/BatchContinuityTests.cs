using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Replication;

/// <summary>
/// Reconciliation of a stream of batches: a deleted, missing, repeated or foreign-history batch stops
/// the replicator naming sequence and LSN; a stream that holds less than the cursor gets the rest
/// again; a stream of the other format is refused. The batches here hold 10 records (the log's 100
/// records are sequences 1 to 10).
/// </summary>
public sealed class BatchContinuityTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task CatchUpAsync_BatchDeletedInsideTheStream_ThrowsNamingSequenceAndLsn()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("bdeleted");
        await Shipping.ShipAsync(_log, nats, options, 100, 20, ct);
        var stream = await new NatsJSContext(nats).GetStreamAsync(options.StreamName, cancellationToken: ct);
        Assert.True(await stream.DeleteMessageAsync(new StreamMsgDeleteRequest { Seq = 4 }, ct) is { Success: true });

        using var replicator = NatsReplicator.Open(_log.Dir, nats, options);
        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => replicator.CatchUpAsync(ct));

        Assert.Equal((4UL, 31L), (error.Sequence, error.Lsn));
        Assert.Contains("sequence 4 holds no message (deleted), after sequence 3 with LSN 21 to 30 (batch 3); LSN 31 is missing there", error.Message, StringComparison.Ordinal);
        Assert.Equal(100, Shipping.ReadCursor(_log, options.StreamName));
    }

    [Fact]
    public async Task CatchUpAsync_BatchPlantedAfterAGap_ThrowsNamingSequenceAndLsnAndShipsNothing()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("bgap");
        await Shipping.ShipAsync(_log, nats, options, 100, 20, ct);
        await StreamPlanter.PublishBatchAsync(nats, _log.Subject, _log.Dir, 105, 110, 11, ct);

        using var replicator = NatsReplicator.Open(_log.Dir, nats, options);
        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => replicator.CatchUpAsync(ct));

        Assert.Equal((11UL, 101L), (error.Sequence, error.Lsn));
        Assert.Contains("sequence 10 holds LSN 91 to 100 (batch 10), sequence 11 holds LSN 105 to 110 (batch 11): LSN 101 to 104 (4 LSNs) missing (a gap)", error.Message, StringComparison.Ordinal);
        Assert.Equal(100, Shipping.ReadCursor(_log, options.StreamName));
        await Shipping.AssertMessagesAsync(nats, options.StreamName, 11, ct);
    }

    [Fact]
    public async Task CatchUpAsync_BatchMissingFarFromTheEnd_BinarySearchNamesTheSequenceAndLsn()
    {
        // Batch 11 (LSN 101 to 110) is missing; the 19 batches after it are continuous among themselves.
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("bfargap");
        await Shipping.ShipAsync(_log, nats, options, 100, 200, ct);
        for (var batch = 12; batch <= 30; batch++)
        {
            await StreamPlanter.PublishBatchAsync(nats, _log.Subject, _log.Dir, (batch * 10) - 9, batch * 10, batch, ct);
        }

        using var replicator = NatsReplicator.Open(_log.Dir, nats, options);
        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => replicator.CatchUpAsync(ct));

        Assert.Equal((11UL, 101L), (error.Sequence, error.Lsn));
        Assert.Contains("sequence 10 holds LSN 91 to 100 (batch 10), sequence 11 holds LSN 111 to 120 (batch 12): LSN 101 to 110 (10 LSNs) missing (a gap)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CatchUpAsync_BatchRepeatedAtTheEnd_ThrowsNamingIt()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("bdup");
        await Shipping.ShipAsync(_log, nats, options, 100, 20, ct);
        await StreamPlanter.PublishBatchAsync(nats, _log.Subject, _log.Dir, 91, 100, 10, ct, withMsgId: false);

        using var replicator = NatsReplicator.Open(_log.Dir, nats, options);
        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => replicator.CatchUpAsync(ct));

        Assert.Equal((11UL, 91L), (error.Sequence, error.Lsn));
        Assert.Contains("sequence 11 holds the same LSNs again (a duplicate: LSN 91 to 100 (batch 10))", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CatchUpAsync_LastBatchHoldsOtherBytes_ThrowsNamingAnotherHistory()
    {
        // What a stream fed by another copy of the log (a failover's old writer) holds.
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("bhistory");
        await Shipping.ShipAsync(_log, nats, options, 100, 20, ct);
        await StreamPlanter.PublishBatchAsync(nats, _log.Subject, _log.Dir, 101, 110, 11, ct, flipLsn: 105);

        using var replicator = NatsReplicator.Open(_log.Dir, nats, options);
        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => replicator.CatchUpAsync(ct));

        Assert.Equal((11UL, 105L), (error.Sequence, error.Lsn));
        Assert.Contains("holds another history of this log: its message at sequence 11 (LSN 101 to 110 (batch 11), ", error.Message, StringComparison.Ordinal);
        Assert.Contains(") has other bytes for LSN 105 than the log", error.Message, StringComparison.Ordinal);
        Assert.Equal(100, Shipping.ReadCursor(_log, options.StreamName));
    }

    [Fact]
    public async Task CatchUpAsync_StreamRecreatedHoldingLessThanTheCursor_ShipsTheRestAgainAndAuditMatches()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("brecreated");
        await Shipping.ShipAsync(_log, nats, options, 300, 50, ct);
        var js = new NatsJSContext(nats);
        await js.DeleteStreamAsync(options.StreamName, ct);
        await js.CreateStreamAsync(new StreamConfig(options.StreamName, [_log.Subject]) { DuplicateWindow = TimeSpan.FromMinutes(2) }, ct);
        for (var batch = 1; batch <= 3; batch++)
        {
            await StreamPlanter.PublishBatchAsync(nats, _log.Subject, _log.Dir, (batch * 40) - 39, batch * 40, batch, ct);
        }

        using (var replicator = NatsReplicator.Open(_log.Dir, nats, options))
        {
            Assert.Equal(350, await replicator.CatchUpAsync(ct));
            Assert.Equal(230, replicator.GetProgress().RecordsShipped);
            Assert.Equal(23, replicator.GetProgress().MessagesShipped);
        }

        Assert.Contains(_logger.Lines, l => l.Contains("is at LSN 300 but stream " + options.StreamName + " holds only up to LSN 120 (sequence 3)", StringComparison.Ordinal));
        var report = await StreamAuditor.AuditAsync(_log.Dir, nats, new StreamAuditOptions { StreamName = options.StreamName }, ct);
        Assert.True(report.IsMatch, string.Join(Environment.NewLine, report.Findings));
        Assert.Equal((350L, 26L), (report.VerifiedRecords, report.VerifiedMessages));
        await StreamChecks.AssertHoldsLogAsync(nats, options.StreamName, _log.Dir, 350, ct);
    }

    [Fact]
    public async Task CatchUpAsync_StreamOfOneRecordPerMessage_RefusesToShipBatchesIntoIt()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("bformat");
        options.Format = NatsMessageFormat.Record;
        await Shipping.ShipAsync(_log, nats, options, 10, 5, ct);
        options.Format = NatsMessageFormat.Batch;

        using var replicator = NatsReplicator.Open(_log.Dir, nats, options);
        var error = await Assert.ThrowsAsync<ReplicationException>(() => replicator.CatchUpAsync(ct));

        Assert.Contains("holds one record per message (its last message, sequence 10, holds LSN 10), but this replicator ships batches", error.Message, StringComparison.Ordinal);
        await Shipping.AssertMessagesAsync(nats, options.StreamName, 10, ct);
    }

    private NatsReplicatorOptions Options(string prefix) => new() { StreamName = NatsServers.UniqueStream(prefix), BatchMaxRecords = 10, Logger = _logger };
}
