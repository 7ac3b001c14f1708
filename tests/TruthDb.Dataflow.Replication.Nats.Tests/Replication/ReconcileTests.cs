using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Replication;

/// <summary>Restarts: the stream and the cursor disagree, or the replicator is stopped mid-run.</summary>
public sealed class ReconcileTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData(NatsMessageFormat.Record)]
    [InlineData(NatsMessageFormat.Batch)]
    public async Task CatchUpAsync_CursorBehindStream_ResumesAfterStreamWithoutDuplicates(NatsMessageFormat format)
    {
        // A crash after the stream acknowledged, before the cursor was committed, leaves exactly this.
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = new NatsReplicatorOptions { StreamName = NatsServers.UniqueStream("behind"), Format = format, Logger = _logger };
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 500, seed: 21, ct);
        }

        using (var first = NatsReplicator.Open(_log.Dir, nats, options))
        {
            Assert.Equal(500, await first.CatchUpAsync(ct));
        }

        using (var reader = WalReader.Open(_log.Dir))
        {
            await reader.CommitCursorAsync("replicator-" + options.StreamName, 100, ct);
        }

        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 200, seed: 22, ct);
        }

        using (var second = NatsReplicator.Open(_log.Dir, nats, options))
        {
            Assert.Equal(700, await second.CatchUpAsync(ct));
            Assert.Equal(200, second.GetProgress().RecordsShipped);
            Assert.Equal(700, second.GetProgress().CursorLsn);
        }

        Assert.Contains(_logger.Lines, l => l.Contains("last LSN in the stream 500, cursor 100; resuming at LSN 501", StringComparison.Ordinal));
        await StreamChecks.AssertHoldsLogAsync(nats, options.StreamName, _log.Dir, 700, ct);
    }

    [Theory]
    [InlineData(NatsMessageFormat.Record)]
    [InlineData(NatsMessageFormat.Batch)]
    public async Task RunAsync_CancelledWhileFollowing_ReturnsWithCursorAtShippedLsn(NatsMessageFormat format)
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = NatsServers.UniqueStream("cancel");
        await using var wal = await _log.OpenAsync();
        using var replicator = NatsReplicator.Create(wal, nats, new NatsReplicatorOptions { StreamName = stream, Format = format, Logger = _logger });
        using var stop = new CancellationTokenSource();
        var run = replicator.RunAsync(stop.Token);
        await TestLog.AppendAsync(wal, 300, seed: 23, ct);
        await await Task.WhenAny(run, replicator.WaitForShippedAsync(300, ct));
        await TestLog.AppendAsync(wal, 300, seed: 24, ct);
        await stop.CancelAsync();
        await run.WaitAsync(ct);

        var shipped = replicator.GetProgress().ShippedLsn;
        Assert.InRange(shipped, 300, 600);
        Assert.Equal(shipped, wal.GetCursor(replicator.CursorName));
        Assert.InRange((await StreamChecks.ReadAllAsync(nats, stream, ct)).Count, shipped, 600);

        // What a stop left unacknowledged (or unsent) is reconciled on the next start.
        using var again = NatsReplicator.Create(wal, nats, new NatsReplicatorOptions { StreamName = stream, Format = format, Logger = _logger });
        Assert.Equal(600, await again.CatchUpAsync(ct));
        await StreamChecks.AssertHoldsLogAsync(nats, stream, _log.Dir, 600, ct);
    }

    [Fact]
    public async Task CatchUpAsync_NothingToShip_ReturnsCursorAndLeavesStreamEmpty()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        await using var wal = await _log.OpenAsync();
        using var replicator = NatsReplicator.Create(wal, nats, new NatsReplicatorOptions { StreamName = NatsServers.UniqueStream("empty") });
        Assert.Equal(0, await replicator.CatchUpAsync(ct));
        var info = await new NatsJSContext(nats).GetStreamAsync(replicator.StreamName, cancellationToken: ct);
        Assert.Equal(0, info.Info.State.Messages);
    }
}
