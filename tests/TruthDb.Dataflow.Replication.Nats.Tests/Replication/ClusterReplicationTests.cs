using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Replication;

/// <summary>Replication into a 3-replica stream on the 3-node cluster that <c>.ci/nats.sh</c> runs, and the log restored from it.</summary>
public sealed class ClusterReplicationTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task CatchUpAsync_HundredThousandRecordsOnePerMessageIntoThreeReplicas_StreamHoldsEveryLsnOnceInOrderByteExact()
    {
        var ct = Timeouts.Token(3);
        const int Records = 100_000;
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, Records, seed: 7, ct);
        }

        await using var nats = await NatsServers.ConnectAsync(NatsServers.ClusterUrls);
        var stream = NatsServers.UniqueStream("hundredk");
        using (var replicator = NatsReplicator.Open(_log.Dir, nats, new NatsReplicatorOptions { StreamName = stream, Replicas = 3, Format = NatsMessageFormat.Record, Logger = _logger }))
        {
            Assert.Equal(Records, await replicator.CatchUpAsync(ct));
            Assert.Equal(Records, replicator.GetProgress().CursorLsn);
        }

        var info = await new NatsJSContext(nats).GetStreamAsync(stream, cancellationToken: ct);
        Assert.Equal(3, info.Info.Config.NumReplicas);
        Assert.Equal("truthdb." + _log.Name, Assert.Single(info.Info.Config.Subjects!));
        await StreamChecks.AssertHoldsLogAsync(nats, stream, _log.Dir, Records, ct);
        using var reader = WalReader.Open(_log.Dir);
        Assert.Equal(Records, reader.GetCursor("replicator-" + stream));
    }

    [Fact]
    public async Task CatchUpAsync_MillionRecordsInBatchesIntoThreeReplicas_AuditAndRestoredLogMatchTheSourceByteForByte()
    {
        var ct = Timeouts.Token(6);
        const int Records = 1_000_000;
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, Records, seed: 8, ct, maxSize: 200);
        }

        await using var nats = await NatsServers.ConnectAsync(NatsServers.ClusterUrls);
        var stream = NatsServers.UniqueStream("million");
        using (var replicator = NatsReplicator.Open(_log.Dir, nats, new NatsReplicatorOptions { StreamName = stream, Replicas = 3, Logger = _logger }))
        {
            Assert.Equal(Records, await replicator.CatchUpAsync(ct));
            _logger.Note($"shipped {replicator.GetProgress().RecordsShipped} records in {replicator.GetProgress().MessagesShipped} messages");
        }

        var audit = await StreamAuditor.AuditAsync(_log.Dir, nats, new StreamAuditOptions { StreamName = stream }, ct);
        Assert.True(audit.IsMatch, string.Join(Environment.NewLine, audit.Findings));
        Assert.Equal((Records, 1L, (long)Records), (audit.VerifiedRecords, audit.FirstLsn, audit.LastLsn));

        var restored = Path.Combine(_log.Root, "restored");
        Assert.Equal(Records, await NatsRestorer.Create(restored, nats, new NatsRestorerOptions { StreamName = stream, Logger = _logger }).RestoreAsync(ct));
        await LogComparison.AssertSameAsync(_log.Dir, restored, 1, Records, ct);
    }
}
