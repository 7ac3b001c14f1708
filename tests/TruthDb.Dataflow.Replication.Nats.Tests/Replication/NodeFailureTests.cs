using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Replication;

/// <summary>One node of a 3-node cluster (this test's own) is killed mid-stream and restarted.</summary>
[Collection(OwnClustersOneAtATime.Name)]
public sealed class NodeFailureTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task RunAsync_StreamLeaderKilledMidStreamAndRestarted_NoLossNoDuplicate()
    {
        var ct = Timeouts.Token(6);
        await using var cluster = await OwnCluster.StartAsync(ct);
        await using var nats = await NatsServers.ConnectAsync(cluster.Urls);
        var js = new NatsJSContext(nats);
        var stream = NatsServers.UniqueStream("nodefail");
        long lastLsn;
        await using (var wal = await _log.OpenAsync())
        {
            using var replicator = NatsReplicator.Create(wal, nats, new NatsReplicatorOptions
            {
                StreamName = stream,
                Replicas = 3,
                AckTimeout = TimeSpan.FromSeconds(2),
                Logger = _logger,
            });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var run = replicator.RunAsync(stop.Token);
            await using var appender = new Appender(wal, seed: 3);

            await WaitForShippedAsync(replicator, run, 2_000, ct);
            var info = await js.GetStreamAsync(stream, cancellationToken: ct);
            var leader = info.Info.Cluster?.Leader ?? throw new InvalidOperationException("The stream reports no leader.");
            var node = int.Parse(leader.AsSpan(1), provider: System.Globalization.CultureInfo.InvariantCulture);
            _logger.Note($"killing stream leader {leader}");
            await cluster.KillAsync(node, ct);

            var shippedWithTwoNodes = replicator.GetProgress().ShippedLsn + 2_000;
            await WaitForShippedAsync(replicator, run, shippedWithTwoNodes, ct);
            _logger.Note($"restarting {leader}");
            await cluster.RestartAsync(node, ct);
            await WaitForShippedAsync(replicator, run, replicator.GetProgress().ShippedLsn + 2_000, ct);

            lastLsn = await appender.StopAsync(wal);
            await WaitForShippedAsync(replicator, run, lastLsn, ct);
            await stop.CancelAsync();
            await run;
            Assert.Equal(lastLsn, replicator.GetProgress().CursorLsn);
        }

        // The restarted node catches up: the cluster is whole again (all three replicas current).
        await WaitForReplicasCurrentAsync(js, stream, ct);
        await StreamChecks.AssertHoldsLogAsync(nats, stream, _log.Dir, lastLsn, ct);
    }

    private static async Task WaitForReplicasCurrentAsync(NatsJSContext js, string stream, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                var info = await js.GetStreamAsync(stream, cancellationToken: ct);
                if (info.Info.Cluster is { Leader: not null, Replicas: { Count: 2 } replicas } && replicas.All(r => r.Current && !r.Offline))
                {
                    return;
                }
            }
            catch (NATS.Client.Core.NatsException)
            {
                // No leader for a moment: ask again.
            }

            // A poll interval (replica state has no event to await); the test's token bounds the wait.
            await Task.Delay(20, ct);
        }
    }

    // Waits for the shipped LSN to reach a value; fails if the replicator stops first.
    private static async Task WaitForShippedAsync(NatsReplicator replicator, Task run, long lsn, CancellationToken ct)
    {
        var shipped = replicator.WaitForShippedAsync(lsn, ct);
        if (await Task.WhenAny(run, shipped) == run)
        {
            await run;
            throw new InvalidOperationException("The replicator stopped before shipping LSN " + lsn);
        }

        await shipped;
    }
}
