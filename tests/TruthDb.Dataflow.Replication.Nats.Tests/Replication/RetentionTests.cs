using NATS.Client.Core;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Replication;

/// <summary>
/// Backpressure reaches the log's retention: what the replicator's cursor has not passed is kept, as for
/// any cursor (from the replicator's first start, even with the servers unreachable), unless the log is
/// told to ignore cursors; then the replicator stops naming the records it can no longer ship.
/// </summary>
public sealed class RetentionTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task CatchUpAsync_ReplicatorBehindWhileRetentionTrimsBySize_KeepsWhatItsCursorNeedsThenLetsGo()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("retkeep");
        await using var wal = await Wal.OpenAsync(WalOptions(ignoreCursors: false));
        await TestLog.AppendAsync(wal, 100, seed: 131, ct);
        using (var replicator = NatsReplicator.Create(wal, nats, options))
        {
            Assert.Equal(100, await replicator.CatchUpAsync(ct));
        }

        // The replicator is away while the log grows to many times its size limit.
        await TestLog.AppendAsync(wal, 6_000, seed: 132, ct);
        Assert.InRange(wal.FirstLsn, 1, 101);
        Assert.True(wal.GetStatistics().Segments > 4, $"{wal.GetStatistics().Segments} segments");
        Assert.Equal(6_000, NatsReplicator.Create(wal, nats, options).GetProgress().LagLsns);

        using (var replicator = NatsReplicator.Create(wal, nats, options))
        {
            Assert.Equal(6_100, await replicator.CatchUpAsync(ct));
        }

        await StreamChecks.AssertHoldsLogAsync(nats, options.StreamName, _log.Dir, 6_100, ct);
        await TestLog.AppendAsync(wal, 2_000, seed: 133, ct);
        Assert.True(wal.FirstLsn > 101, $"the log still starts at LSN {wal.FirstLsn} after the cursor moved on");
    }

    [Fact]
    public async Task CatchUpAsync_RetentionToldToIgnoreCursors_ReplicatorStopsNamingTheRecordsItCannotShip()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var options = Options("retignore");
        await using var wal = await Wal.OpenAsync(WalOptions(ignoreCursors: true));
        await TestLog.AppendAsync(wal, 100, seed: 134, ct);
        using (var replicator = NatsReplicator.Create(wal, nats, options))
        {
            Assert.Equal(100, await replicator.CatchUpAsync(ct));
        }

        await TestLog.AppendAsync(wal, 6_000, seed: 135, ct);
        var first = wal.FirstLsn;
        Assert.True(first > 101, $"the log still starts at LSN {first}");

        using var again = NatsReplicator.Create(wal, nats, options);
        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => again.CatchUpAsync(ct));

        Assert.Equal(101, error.Lsn);
        Assert.Contains($"the log's first record is now LSN {first}: LSN 101 to {first - 1} ({first - 101} LSNs) can no longer be shipped (log retention removed them)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ServersUnreachableFromTheStart_CursorAtZeroKeepsEveryRecord()
    {
        var ct = Timeouts.Token();
        await using var unreachable = new NatsConnection(new NatsOpts { Url = "nats://127.0.0.1:1", ConnectTimeout = TimeSpan.FromSeconds(1) });
        await using var wal = await Wal.OpenAsync(WalOptions(ignoreCursors: false));
        using var replicator = NatsReplicator.Create(wal, unreachable, Options("retnone"));
        var error = await Assert.ThrowsAsync<ReplicationException>(() => replicator.RunAsync(ct));

        Assert.StartsWith("The NATS servers could not be reached for 1 s (last: ", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<NatsException>(error.InnerException);

        Assert.Equal(0, Assert.Contains(replicator.CursorName, wal.Cursors));
        await TestLog.AppendAsync(wal, 6_000, seed: 136, ct);
        Assert.Equal(1, wal.FirstLsn);
    }

    // 256 KiB segments, at most 512 KiB of them: 6,000 records (300 bytes on average) fill seven.
    private WalOptions WalOptions(bool ignoreCursors)
    {
        var options = _log.Options();
        options.SegmentSize = 256 * 1024;
        options.RetentionMaxBytes = 512 * 1024;
        options.RetentionIgnoresCursors = ignoreCursors;
        return options;
    }

    private NatsReplicatorOptions Options(string prefix) => new() { StreamName = NatsServers.UniqueStream(prefix), RetryLimit = TimeSpan.FromSeconds(1), Logger = _logger };
}
