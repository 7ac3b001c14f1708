using System.Globalization;
using System.Text.RegularExpressions;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Restoring;

/// <summary>
/// <c>truthdb restore --follow</c> killed with SIGKILL at random moments while a writer appends and a
/// replicator ships: each run goes on from its own log, and the restored log is the source's prefix,
/// byte for byte. <c>TRUTHDB_STRESS_ROUNDS=n</c> multiplies the rounds.
/// </summary>
public sealed partial class RestoreKillTests(ITestOutputHelper output) : IDisposable
{
    private const int Rounds = 10;
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    private string Restored => Path.Combine(_log.Root, "restored");

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Restore_KilledWithSigkillAtRandomMomentsWhileTheWriterAppends_RestoredLogIsTheSourcePrefix()
    {
        var rounds = Rounds * Stress.Rounds;
        var ct = Timeouts.Token(2 + (2 * Stress.Rounds));
        var stream = NatsServers.UniqueStream("restkill");
        await using var nats = await NatsServers.ConnectAsync(NatsServers.ClusterUrls);
        string[] args = ["restore", "--dir", Restored, "--nats", NatsServers.ClusterUrls, "--stream", stream, "--interval", "0.05", "--durability", "sync"];

        // Killed while following: a restore that runs to the stream's end could catch up and end
        // within one progress interval, before any moment to kill it while it works.
        string[] following = [.. args, "--follow"];
        var random = new Random(20261207);
        int killedWhileRestoring;
        long lastLsn;
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 2_000, seed: 141, ct);
            using var replicator = NatsReplicator.Create(wal, nats, new NatsReplicatorOptions { StreamName = stream, Replicas = 3, BatchMaxRecords = 64, Logger = _logger });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var shipping = replicator.RunAsync(stop.Token);
            await using (var appender = new Appender(wal, seed: 142))
            {
                killedWhileRestoring = await RandomKills.RunAsync(following, rounds, random, "restoring stream", RestoringLines(), ct);
                lastLsn = await appender.StopAsync(wal);
            }

            await await Task.WhenAny(shipping, replicator.WaitForShippedAsync(lastLsn, ct));
            await stop.CancelAsync();
            await shipping;
        }

        Assert.True(killedWhileRestoring >= rounds / 2, $"only {killedWhileRestoring} kills while restoring");
        using (var partial = WalReader.Open(Restored))
        {
            _logger.Note($"after {rounds} kills the restored log holds LSN {partial.WrittenLsn} of {lastLsn}");
            await LogComparison.AssertSameAsync(_log.Dir, Restored, 1, partial.WrittenLsn, ct);
        }

        var final = await TruthdbProcess.RunAsync(args, ct);
        Assert.True(final.ExitCode == 0, final.ToString());
        Assert.Contains($"restored: the log in '{Restored}' holds up to LSN {lastLsn.ToString(CultureInfo.InvariantCulture)} (the stream up to {lastLsn.ToString(CultureInfo.InvariantCulture)})", final.Stdout, StringComparison.Ordinal);
        await LogComparison.AssertSameAsync(_log.Dir, Restored, 1, lastLsn, ct);
        Assert.True(Inspection.LogInspector.Verify(Restored).IsClean);
    }

    // A progress line of an interval in which this process restored records.
    [GeneratedRegex(@"^restored LSN \d+ \| [1-9][\d,]* records/s", RegexOptions.Multiline)]
    private static partial Regex RestoringLines();
}
