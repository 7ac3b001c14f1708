using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Replication;

/// <summary>The server restarts after the duplicate window has passed (its own single server).</summary>
[Collection(OwnClustersOneAtATime.Name)]
public sealed class ServerRestartTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData(NatsMessageFormat.Record)]
    [InlineData(NatsMessageFormat.Batch)]
    public async Task RunAsync_ServerRestartedAfterDuplicateWindowWhileIdle_ContinuesExactlyOnce(NatsMessageFormat format)
    {
        // A restarted server remembers the stream's last message id only within the duplicate window,
        // so the next message's expected last message id is refused although its predecessor is there:
        // the replicator must see that and go on (anchored by sequence, checked by content), not stop.
        var ct = Timeouts.Token();
        await using var server = await OwnCluster.StartAsync(ct, nodes: 1);
        await using var nats = await NatsServers.ConnectAsync(server.Urls);
        await using var wal = await _log.OpenAsync();
        using var replicator = NatsReplicator.Create(wal, nats, new NatsReplicatorOptions
        {
            StreamName = NatsServers.UniqueStream("restart"),
            DuplicateWindow = TimeSpan.FromSeconds(1),
            Format = format,
            Logger = _logger,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = replicator.RunAsync(stop.Token);
        await TestLog.AppendAsync(wal, 20, seed: 61, ct);
        await await Task.WhenAny(run, replicator.WaitForShippedAsync(20, ct));

        // Time itself is the condition here: the last message must age out of the 1 s window.
        await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
        await server.KillAsync(1, ct);
        await server.RestartAsync(1, ct);
        await TestLog.AppendAsync(wal, 20, seed: 62, ct);
        await await Task.WhenAny(run, replicator.WaitForShippedAsync(40, ct));
        await stop.CancelAsync();
        await run;

        Assert.Equal(40, wal.GetCursor(replicator.CursorName));
        Assert.Contains(_logger.Lines, l => l.Contains(format == NatsMessageFormat.Record ? "did not recognize LSN 20 as its last message" : "did not recognize LSN 1 to 20 (batch 1) as its last message", StringComparison.Ordinal));
        Assert.Contains(_logger.Lines, l => l.Contains("alone (its leader did not recognize its last message id); checked through the leader", StringComparison.Ordinal));
        await StreamChecks.AssertHoldsLogAsync(nats, replicator.StreamName, _log.Dir, 40, ct);
    }
}
