using System.Globalization;
using System.Text.RegularExpressions;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Replication;

/// <summary>
/// <c>truthdb replicate</c> (batches) killed with SIGKILL at random moments while the log keeps growing
/// and ships into a 3-replica stream. <c>TRUTHDB_STRESS_ROUNDS=n</c> multiplies the rounds.
/// </summary>
public sealed partial class ProcessKillTests : IDisposable
{
    private const int Rounds = 24;
    private readonly TestLog _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Replicate_KilledWithSigkillAtRandomMomentsWhileAppending_StreamHoldsEveryLsnOnce()
    {
        var rounds = Rounds * Stress.Rounds;
        var ct = Timeouts.Token(2 + (2 * Stress.Rounds));
        var stream = NatsServers.UniqueStream("sigkill");
        await using var nats = await NatsServers.ConnectAsync(NatsServers.ClusterUrls);
        string[] args = ["replicate", "--dir", _log.Dir, "--nats", NatsServers.ClusterUrls, "--stream", stream, "--replicas", "3", "--interval", "0.05", "--max-in-flight", "256"];
        var random = new Random(20261201);
        int killedWhileShipping;
        long lastLsn;
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 2_000, seed: 1, ct);
            await using var appender = new Appender(wal, seed: 2);
            killedWhileShipping = await RandomKills.RunAsync(args, rounds, random, "replicating", ShippedLines(), ct);
            lastLsn = await appender.StopAsync(wal);
        }

        Assert.True(killedWhileShipping >= rounds / 2, $"only {killedWhileShipping} kills while shipping");
        Assert.InRange((await StreamChecks.ReadAllAsync(nats, stream, ct)).Count, 2_000, lastLsn);

        var final = await TruthdbProcess.RunAsync([.. args, "--until-caught-up"], ct);
        Assert.True(final.ExitCode == 0, final.ToString());
        Assert.Contains("caught up: shipped up to LSN " + lastLsn.ToString(CultureInfo.InvariantCulture), final.Stdout, StringComparison.Ordinal);
        await StreamChecks.AssertHoldsLogAsync(nats, stream, _log.Dir, lastLsn, ct);
    }

    // A progress line of an interval in which this process shipped records.
    [GeneratedRegex(@"^shipped LSN \d+ \| [1-9][\d,]* records/s", RegexOptions.Multiline)]
    private static partial Regex ShippedLines();
}
