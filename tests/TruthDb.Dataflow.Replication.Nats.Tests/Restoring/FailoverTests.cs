using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Restoring;

/// <summary>
/// Failover as docs/replication.md describes it: a restored replica is promoted to the writer and goes
/// on in the same stream; the old writer's log, which went on by itself, is refused by the stream.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Failover_ReplicaPromotedToWriter_GoesOnInTheStreamAndTheOldWriterIsRefused()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = NatsServers.UniqueStream("failover");
        var replica = Path.Combine(_log.Root, "replica");
        var replicating = new NatsReplicatorOptions { StreamName = stream, LogName = _log.Name, BatchMaxRecords = 100, Logger = _logger };

        // The writer ships 1,000 records; the replica has them.
        await using (var writer = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(writer, 1_000, seed: 111, ct);
            using var replicator = NatsReplicator.Create(writer, nats, replicating);
            Assert.Equal(1_000, await replicator.CatchUpAsync(ct));
        }

        Assert.Equal(1_000, await NatsRestorer.Create(replica, nats, new NatsRestorerOptions { StreamName = stream, Logger = _logger }).RestoreAsync(ct));

        // The old writer goes on by itself (cut off from the cluster): 500 records never shipped.
        await using (var old = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(old, 500, seed: 112, ct);
        }

        // The replica is promoted: opened as a writer, it appends and ships into the same stream.
        await using (var promoted = await Wal.OpenAsync(new WalOptions { Directory = replica }))
        {
            Assert.Equal(1_000, promoted.WrittenLsn);
            await TestLog.AppendAsync(promoted, 300, seed: 113, ct);
            using var replicator = NatsReplicator.Create(promoted, nats, replicating);
            Assert.Equal(1_300, await replicator.CatchUpAsync(ct));
            Assert.Equal(300, replicator.GetProgress().RecordsShipped);
        }

        // The old writer's replicator comes back: the stream holds another history of LSN 1,001 on.
        using (var stale = NatsReplicator.Open(_log.Dir, nats, replicating))
        {
            var error = await Assert.ThrowsAsync<StreamMismatchException>(() => stale.CatchUpAsync(ct));
            Assert.Contains("holds another history of this log", error.Message, StringComparison.Ordinal);
            Assert.InRange(error.Lsn, 1_201, 1_300);
        }

        var info = await new NatsJSContext(nats).GetStreamAsync(stream, cancellationToken: ct);
        Assert.Equal(13, info.Info.State.Messages);
        var audit = await StreamAuditor.AuditAsync(replica, nats, new StreamAuditOptions { StreamName = stream }, ct);
        Assert.True(audit.IsMatch, string.Join(Environment.NewLine, audit.Findings));
        Assert.Equal(1_300, audit.VerifiedRecords);
        using var reader = WalReader.Open(_log.Dir);
        Assert.Equal(1_000, reader.GetCursor(LogNames.DefaultCursor(stream)));
    }
}
