using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Restoring;

/// <summary>A log rebuilt from the stream a replicator fed: the same id, the same LSNs, byte for byte; resumed; followed.</summary>
public sealed class RestoreTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    private string Restored => Path.Combine(_log.Root, "restored");

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData(NatsMessageFormat.Batch)]
    [InlineData(NatsMessageFormat.Record)]
    public async Task RestoreAsync_StreamAReplicatorFed_RebuildsTheLogWithItsIdAndLsnsByteForByte(NatsMessageFormat format)
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, 3_000, format, ct);

        var restorer = NatsRestorer.Create(Restored, nats, Options(stream));
        Assert.Equal(3_000, await restorer.RestoreAsync(ct));

        Assert.Equal(3_000, restorer.GetProgress().RecordsRestored);
        await LogComparison.AssertSameAsync(_log.Dir, Restored, 1, 3_000, ct);
        Assert.True(Inspection.LogInspector.Verify(Restored).IsClean);
    }

    [Fact]
    public async Task RestoreAsync_AgainAfterMoreWasShipped_GoesOnFromItsOwnLog()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, 1_000, NatsMessageFormat.Batch, ct);
        Assert.Equal(1_000, await NatsRestorer.Create(Restored, nats, Options(stream)).RestoreAsync(ct));
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 777, seed: 92, ct);
            using var replicator = NatsReplicator.Create(wal, nats, new NatsReplicatorOptions { StreamName = stream, BatchMaxRecords = 100 });
            await replicator.CatchUpAsync(ct);
        }

        var again = NatsRestorer.Create(Restored, nats, Options(stream));
        Assert.Equal(1_777, await again.RestoreAsync(ct));

        Assert.Equal(777, again.GetProgress().RecordsRestored);
        Assert.Contains(_logger.Lines, l => l.Contains("the restored log ends at LSN 1000", StringComparison.Ordinal));
        await LogComparison.AssertSameAsync(_log.Dir, Restored, 1, 1_777, ct);
    }

    [Fact]
    public async Task RestoreAsync_StreamThatDroppedItsFirstMessages_StartsTheLogWhereTheStreamStarts()
    {
        // A stream with limits of its own (or purged down to its last messages) no longer starts at LSN 1.
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, 3_000, NatsMessageFormat.Batch, ct);
        await new NatsJSContext(nats).PurgeStreamAsync(stream, new StreamPurgeRequest { Keep = 10 }, ct);

        Assert.Equal(3_000, await NatsRestorer.Create(Restored, nats, Options(stream)).RestoreAsync(ct));

        await LogComparison.AssertSameAsync(_log.Dir, Restored, 2_001, 3_000, ct);
        await using var restored = await Wal.OpenAsync(new WalOptions { Directory = Restored });
        Assert.Equal(2_001, restored.FirstLsn);
    }

    [Fact]
    public async Task RunAsync_FollowingWhileTheSourceAppends_IsAReadReplicaThatAWalReaderTails()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = NatsServers.UniqueStream("restfollow");
        await using var wal = await _log.OpenAsync();
        await TestLog.AppendAsync(wal, 500, seed: 94, ct);
        using var replicator = NatsReplicator.Create(wal, nats, new NatsReplicatorOptions { StreamName = stream, Logger = _logger });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var shipping = replicator.RunAsync(stop.Token);
        await await Task.WhenAny(shipping, replicator.WaitForShippedAsync(500, ct));

        var restorer = NatsRestorer.Create(Restored, nats, Options(stream));
        var following = restorer.RunAsync(stop.Token);
        await await Task.WhenAny(following, restorer.WaitForRestoredAsync(500, ct));

        // A reader of the replica (another "process": no lock) sees what the restorer appends next.
        using var reader = WalReader.Open(Restored);
        var seen = new List<long>();
        var tail = Task.Run(async () =>
        {
            await foreach (var record in reader.ReadAsync(501, new ReadOptions { Follow = true }, stop.Token))
            {
                seen.Add(record.Lsn);
                if (record.Lsn == 1_500)
                {
                    return;
                }
            }
        }, ct);
        await TestLog.AppendAsync(wal, 1_000, seed: 95, ct);
        await tail.WaitAsync(ct);

        Assert.Equal(Enumerable.Range(501, 1_000).Select(i => (long)i), seen);
        await stop.CancelAsync();
        await following;
        await shipping;
        Assert.Equal(1_500, restorer.GetProgress().RestoredLsn);
        await LogComparison.AssertSameAsync(_log.Dir, Restored, 1, 1_500, ct);
    }

    [Fact]
    public async Task RunAsync_StreamPurgedAndShippedAgainWhileFollowing_FindsItsPlaceAndStaysByteExact()
    {
        // The stream loses what the replica already has, and the replicator ships it again (cut into
        // other batches): the restorer must notice, find its place by LSN, compare and go on.
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = NatsServers.UniqueStream("restpurge");
        await using var wal = await _log.OpenAsync();
        await TestLog.AppendAsync(wal, 1_000, seed: 96, ct);
        var options = new NatsReplicatorOptions { StreamName = stream, BatchMaxRecords = 100, DuplicateWindow = TimeSpan.FromSeconds(1), Logger = _logger };
        using (var first = NatsReplicator.Create(wal, nats, options))
        {
            await first.CatchUpAsync(ct);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var restorer = NatsRestorer.Create(Restored, nats, Options(stream));
        var following = restorer.RunAsync(stop.Token);
        await await Task.WhenAny(following, restorer.WaitForRestoredAsync(1_000, ct));

        await new NatsJSContext(nats).PurgeStreamAsync(stream, new StreamPurgeRequest(), ct);
        await TestLog.AppendAsync(wal, 500, seed: 97, ct);
        options.BatchMaxRecords = 64;
        using (var again = NatsReplicator.Create(wal, nats, options))
        {
            Assert.Equal(1_500, await again.CatchUpAsync(ct));
        }

        await await Task.WhenAny(following, restorer.WaitForRestoredAsync(1_500, ct));
        await stop.CancelAsync();
        await following;
        Assert.Contains(_logger.Lines, l => l.Contains("finds its place again", StringComparison.Ordinal));
        await LogComparison.AssertSameAsync(_log.Dir, Restored, 1, 1_500, ct);
    }

    private NatsRestorerOptions Options(string stream) => new() { StreamName = stream, Durability = Durability.Written, SegmentSize = 1024 * 1024, Logger = _logger };

    private Task<string> ShipAsync(INatsConnection nats, int records, NatsMessageFormat format, CancellationToken ct) =>
        Shipping.ShipAsync(_log, nats, new NatsReplicatorOptions { StreamName = NatsServers.UniqueStream("restore"), Format = format, BatchMaxRecords = 100, Logger = _logger }, records, 0, ct);
}
