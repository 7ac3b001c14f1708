using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Replication;

/// <summary>
/// Reconciliation never trusts the stream (one record per message here; <see cref="BatchContinuityTests"/>
/// for batches): a gap, a duplicate or a deleted message planted around the replicator stops it naming
/// sequence and LSN; a stream that holds less than the cursor says was shipped gets the records again,
/// or, when the log no longer has them, stops it.
/// </summary>
public sealed class ContinuityTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task CatchUpAsync_MessageDeletedInsideTheStream_ThrowsNamingSequenceAndLsn()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("deleted");
        await Shipping.ShipAsync(_log, nats, options, 100, 20, ct);
        var stream = await new NatsJSContext(nats).GetStreamAsync(options.StreamName, cancellationToken: ct);
        Assert.True(await stream.DeleteMessageAsync(new StreamMsgDeleteRequest { Seq = 40 }, ct) is { Success: true });

        using var replicator = NatsReplicator.Open(_log.Dir, nats, options);
        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => replicator.CatchUpAsync(ct));

        Assert.Equal(40UL, error.Sequence);
        Assert.Equal(40, error.Lsn);
        Assert.Contains("sequence 40 holds no message (deleted), after sequence 39 with LSN 39", error.Message, StringComparison.Ordinal);
        Assert.Equal(100, Shipping.ReadCursor(_log, options.StreamName));
        await Shipping.AssertMessagesAsync(nats, options.StreamName, 99, ct);
    }

    [Fact]
    public async Task CatchUpAsync_GapPlantedAroundTheReplicator_ThrowsNamingSequenceAndLsnAndShipsNothing()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("gap");
        await Shipping.ShipAsync(_log, nats, options, 100, 20, ct);

        // LSN 102 and 103 land in the stream without 101: what a leader that lost a message would hold.
        await StreamPlanter.PublishRecordAsync(nats, _log.Subject, _log.Dir, 102, ct);
        await StreamPlanter.PublishRecordAsync(nats, _log.Subject, _log.Dir, 103, ct);

        using var replicator = NatsReplicator.Open(_log.Dir, nats, options);
        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => replicator.CatchUpAsync(ct));

        Assert.Equal(101UL, error.Sequence);
        Assert.Equal(101, error.Lsn);
        Assert.Contains("sequence 100 holds LSN 100, sequence 101 holds LSN 102: LSN 101 missing (a gap)", error.Message, StringComparison.Ordinal);
        Assert.Equal(100, Shipping.ReadCursor(_log, options.StreamName));
        await Shipping.AssertMessagesAsync(nats, options.StreamName, 102, ct);
    }

    [Fact]
    public async Task CatchUpAsync_GapFarFromTheEnd_BinarySearchNamesTheSequenceAndLsn()
    {
        // The last messages are continuous among themselves: only a probe and the search find the gap.
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("fargap");
        await Shipping.ShipAsync(_log, nats, options, 100, 500, ct);
        await StreamPlanter.PublishRecordsAsync(nats, _log.Subject, _log.Dir, 102, 600, ct);

        using var replicator = NatsReplicator.Open(_log.Dir, nats, options);
        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => replicator.CatchUpAsync(ct));

        Assert.Equal((101UL, 101L), (error.Sequence, error.Lsn));
        Assert.Contains("sequence 100 holds LSN 100, sequence 101 holds LSN 102: LSN 101 missing (a gap)", error.Message, StringComparison.Ordinal);
        Assert.Equal(100, Shipping.ReadCursor(_log, options.StreamName));
    }

    [Fact]
    public async Task CatchUpAsync_DuplicatePlantedAtTheEnd_ThrowsNamingIt()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("dup");
        await Shipping.ShipAsync(_log, nats, options, 100, 20, ct);
        await StreamPlanter.PublishRecordAsync(nats, _log.Subject, _log.Dir, 100, ct, withMsgId: false);

        using var replicator = NatsReplicator.Open(_log.Dir, nats, options);
        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => replicator.CatchUpAsync(ct));

        Assert.Equal(101UL, error.Sequence);
        Assert.Equal(100, error.Lsn);
        Assert.Contains("sequence 101 holds the same LSN again (a duplicate)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CatchUpAsync_StreamRecreatedHoldingLessThanTheCursor_ShipsTheRestAgainAndAuditMatches()
    {
        // A replica that stayed behind and became leader holds a prefix of what was acknowledged.
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("recreated");
        await Shipping.ShipAsync(_log, nats, options, 300, 50, ct);
        var js = new NatsJSContext(nats);
        await js.DeleteStreamAsync(options.StreamName, ct);
        await js.CreateStreamAsync(new StreamConfig(options.StreamName, [_log.Subject]) { DuplicateWindow = TimeSpan.FromMinutes(2) }, ct);
        for (var lsn = 1; lsn <= 120; lsn++)
        {
            await StreamPlanter.PublishRecordAsync(nats, _log.Subject, _log.Dir, lsn, ct);
        }

        using (var replicator = NatsReplicator.Open(_log.Dir, nats, options))
        {
            Assert.Equal(350, await replicator.CatchUpAsync(ct));
            Assert.Equal(230, replicator.GetProgress().RecordsShipped);
        }

        Assert.Contains(_logger.Lines, l => l.Contains("is at LSN 300 but stream " + options.StreamName + " holds only up to LSN 120 (sequence 120)", StringComparison.Ordinal));
        Assert.Equal(350, Shipping.ReadCursor(_log, options.StreamName));
        using (var reader = WalReader.Open(_log.Dir))
        {
            // The mark kept LSN 300 while the cursor was below it, and follows the cursor once past it
            // (a cursor file too, it must not hold the log's retention back).
            Assert.Equal(350, reader.GetCursor(LogNames.AcknowledgedMark("replicator-" + options.StreamName)));
        }

        var report = await StreamAuditor.AuditAsync(_log.Dir, nats, new StreamAuditOptions { StreamName = options.StreamName }, ct);
        Assert.True(report.IsMatch, string.Join(Environment.NewLine, report.Findings));
        Assert.Equal(350, report.VerifiedMessages);
        await StreamChecks.AssertHoldsLogAsync(nats, options.StreamName, _log.Dir, 350, ct);
    }

    [Fact]
    public async Task CatchUpAsync_StreamPurgedAndLogTruncated_ThrowsNamingTheRecordsThatCannotBeShipped()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("lost");
        long first;
        var walOptions = _log.Options();
        walOptions.SegmentSize = 256 * 1024;
        await using (var wal = await Wal.OpenAsync(walOptions))
        {
            await TestLog.AppendAsync(wal, 4_000, seed: 71, ct);
            using (var replicator = NatsReplicator.Create(wal, nats, options))
            {
                Assert.Equal(4_000, await replicator.CatchUpAsync(ct));
            }

            await wal.TruncateBeforeAsync(3_000, ct);
            first = wal.FirstLsn;
        }

        Assert.InRange(first, 2, 3_000);
        await new NatsJSContext(nats).PurgeStreamAsync(options.StreamName, new StreamPurgeRequest(), ct);

        using var again = NatsReplicator.Open(_log.Dir, nats, options);
        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => again.CatchUpAsync(ct));

        Assert.Equal(1, error.Lsn);
        Assert.Contains($"the log's first record is now LSN {first}: LSN 1 to {first - 1} ({first - 1} LSNs) can no longer be shipped", error.Message, StringComparison.Ordinal);
        Assert.Contains("The cursor says LSN 4000 was shipped", error.Message, StringComparison.Ordinal);
        await Shipping.AssertMessagesAsync(nats, options.StreamName, 0, ct);
    }

    private NatsReplicatorOptions Options(string prefix) => new() { StreamName = NatsServers.UniqueStream(prefix), Format = NatsMessageFormat.Record, Logger = _logger };
}
