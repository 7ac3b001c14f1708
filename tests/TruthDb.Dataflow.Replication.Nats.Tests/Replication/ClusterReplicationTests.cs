using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Replication;

/// <summary>Replication into a 3-replica stream on the 3-node cluster that <c>.ci/nats.sh</c> runs.</summary>
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
}
