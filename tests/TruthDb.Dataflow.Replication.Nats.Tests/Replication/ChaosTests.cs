using System.Globalization;
using NATS.Client.Core;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Replication;

/// <summary>
/// Chaos on a 3-node cluster this test starts itself: while a writer appends and the replicator
/// follows (batches), the stream leader is SIGKILLed and restarted three times and a follower once; then
/// each node in turn is made leader and the whole stream is audited through it. Each round must end one
/// of two ways, and the test records which: every audit passes (after the replicator, run against a
/// leader whose audit failed, shipped the lost records again) and the log restored from the stream is
/// the source byte for byte, or the replicator stopped with a
/// <see cref="StreamMismatchException"/> naming the sequence and LSN of the gap (or of the records
/// the stream lost and would not take again). An audit that fails
/// while the replicator carries on as if all were well fails the test. <c>TRUTHDB_STRESS_ROUNDS</c>
/// sets the number of rounds (default 1); <c>TRUTHDB_STRESS_REPORT</c> names a file that gets the
/// figures after each round.
/// </summary>
[Collection(OwnClustersOneAtATime.Name)]
public sealed class ChaosTests(ITestOutputHelper output)
{
    private const int LeaderKills = 3;
    private readonly TestOutputLogger _logger = new(output);

    private static int Rounds => Stress.Rounds;

    [Fact]
    public async Task RunAsync_LeadersAndFollowerKilledWhileShipping_AuditPassesThroughEveryLeaderOrReplicatorNamesTheGap()
    {
        var tally = new ChaosTally();
        for (var round = 1; round <= Rounds; round++)
        {
            var ct = Timeouts.Token(10);
            using var log = new TestLog();
            await RoundAsync(round, log, tally, ct);
            _logger.Note($"after round {round}: {tally}");
            if (Environment.GetEnvironmentVariable("TRUTHDB_STRESS_REPORT") is { Length: > 0 } report)
            {
                // A long stress run leaves its figures as it goes, not only in the test's output at the end.
                await File.AppendAllTextAsync(report, $"after round {round}: {tally}{Environment.NewLine}", ct);
            }
        }

        _logger.Note($"chaos result: {Rounds} round(s); {tally}");
        Assert.Equal(Rounds, tally.AllAuditsPassed + tally.StoppedNamingGap);
    }

    private static async Task WaitForShippedAsync(NatsReplicator replicator, Task run, long lsn, CancellationToken ct)
    {
        var shipped = replicator.WaitForShippedAsync(lsn, ct);
        await Task.WhenAny(run, shipped);
    }

    private async Task RoundAsync(int round, TestLog log, ChaosTally tally, CancellationToken ct)
    {
        await using var cluster = await OwnCluster.StartAsync(ct);
        await using var nats = await NatsServers.ConnectAsync(cluster.Urls);
        var stream = NatsServers.UniqueStream("chaos");
        var random = new Random(round);
        await using var wal = await log.OpenAsync();
        var options = new NatsReplicatorOptions
        {
            StreamName = stream,
            Replicas = 3,
            AckTimeout = TimeSpan.FromSeconds(2),
            // Elections after a kill have taken over 30 s here: an outage is ridden out, not an outcome.
            RetryLimit = TimeSpan.FromMinutes(3),

            // A leader that refused a proposal keeps its message id "in process" for the window: a
            // short one lets shipping lost records again go on soon (exactly-once does not rest on it).
            DuplicateWindow = TimeSpan.FromSeconds(10),
            Logger = _logger,
        };
        await CreateStreamAsync(nats, stream, log.Subject, options.DuplicateWindow, ct);
        StreamMismatchException? stopped = null;
        long lastLsn;
        var linesBefore = _logger.Lines.Count;
        using (var replicator = NatsReplicator.Create(wal, nats, options))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var run = replicator.RunAsync(stop.Token);
            await using (var appender = new Appender(wal, seed: round, recordsPerBatch: 10))
            {
                await WaitForShippedAsync(replicator, run, 2_000, ct);
                for (var kill = 0; kill <= LeaderKills && !run.IsCompleted; kill++)
                {
                    var leader = await StreamLeaders.CurrentAsync(nats, stream, ct);
                    var victim = kill < LeaderKills ? leader : 1 + ((leader + random.Next(1, 3) - 1) % 3);
                    _logger.Note($"round {round}: SIGKILL {(victim == leader ? "stream leader" : "follower")} n{victim} at shipped LSN {replicator.GetProgress().ShippedLsn}");
                    await cluster.KillAsync(victim, ct);
                    await WaitForShippedAsync(replicator, run, replicator.GetProgress().ShippedLsn + 1_000, ct);
                    await cluster.RestartAsync(victim, ct);
                    await WaitForShippedAsync(replicator, run, replicator.GetProgress().ShippedLsn + 1_000, ct);
                }

                lastLsn = await appender.StopAsync(wal);
            }

            await WaitForShippedAsync(replicator, run, lastLsn, ct);
            await stop.CancelAsync();
            try
            {
                await run;
            }
            catch (StreamMismatchException ex)
            {
                stopped = ex;
            }
        }

        tally.Records += lastLsn;
        var lines = _logger.Lines.Skip(linesBefore).ToList();
        tally.ReshippedWhileFollowing += lines.Count(l => l.Contains("holds only up to LSN", StringComparison.Ordinal));
        tally.NumberingChanged += lines.Count(l => l.Contains("where the stream's numbering puts it", StringComparison.Ordinal));
        if (stopped is not null)
        {
            RecordStop(round, tally, stopped, "while following");
            var now = await AuditAsync(log, nats, stream, ct);
            tally.Verified += now.VerifiedRecords;
            return;
        }

        await StreamLeaders.WaitForReplicasCurrentAsync(nats, stream, 3, ct);
        for (var node = 1; node <= 3; node++)
        {
            await StreamLeaders.MakeLeaderAsync(nats, stream, node, ct);
            var report = await AuditAsync(log, nats, stream, ct);
            if (report.IsMatch)
            {
                tally.Verified += report.VerifiedRecords;
                continue;
            }

            // JetStream lost acknowledged records on this node: the replicator must ship them again or stop.
            tally.LossesSeen++;
            _logger.Note($"round {round}: the audit through n{node} failed: {report.MissingLsns} LSNs missing, {report.Duplicates} duplicates, {report.Mismatches} mismatches");
            try
            {
                using var again = NatsReplicator.Create(wal, nats, options);
                await again.CatchUpAsync(ct);
            }
            catch (StreamMismatchException ex)
            {
                RecordStop(round, tally, ex, $"on n{node}");
                return;
            }

            var after = await AuditAsync(log, nats, stream, ct);
            Assert.True(after.IsMatch, $"round {round}: the replicator went on through n{node} while the stream still differs from the log: {string.Join("; ", after.Findings)}");
            tally.Reshipped++;
            tally.Verified += after.VerifiedRecords;
        }

        // The log restored from the stream (through its last leader) is the source, byte for byte.
        var restored = Path.Combine(log.Root, "restored");
        Assert.Equal(lastLsn, await NatsRestorer.Create(restored, nats, new NatsRestorerOptions { StreamName = stream, Durability = Durability.Written, Logger = _logger }).RestoreAsync(ct));
        await LogComparison.AssertSameAsync(log.Dir, restored, 1, lastLsn, ct);
        tally.AllAuditsPassed++;
    }

    // A cluster whose ports answer may not have formed yet ("no suitable peers for placement"): the
    // test creates the stream once it can, so the round starts on a whole cluster.
    private static async Task CreateStreamAsync(INatsConnection nats, string stream, string subject, TimeSpan window, CancellationToken ct)
    {
        var js = new NATS.Client.JetStream.NatsJSContext(nats);
        var config = new NATS.Client.JetStream.Models.StreamConfig(stream, [subject]) { NumReplicas = 3, DuplicateWindow = window };
        while (true)
        {
            try
            {
                await js.CreateStreamAsync(config, ct);
                return;
            }
            catch (NatsException)
            {
                // A poll interval (cluster formation has no event to await); the round's token bounds it.
                await Task.Delay(100, ct);
            }
        }
    }

    private void RecordStop(int round, ChaosTally tally, StreamMismatchException ex, string when)
    {
        Assert.True(ex.Sequence > 0, ex.Message);
        Assert.Contains("sequence " + ex.Sequence.ToString(CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        _logger.Note($"round {round}: the replicator stopped {when} naming sequence {ex.Sequence}, LSN {ex.Lsn}: {ex.Message}");
        tally.StoppedNamingGap++;
    }

    private async Task<StreamAuditReport> AuditAsync(TestLog log, INatsConnection nats, string stream, CancellationToken ct)
    {
        var report = await StreamAuditor.AuditAsync(log.Dir, nats, new StreamAuditOptions { StreamName = stream }, ct);
        _logger.Note($"audit through {report.Leader}: {(report.IsMatch ? "match" : "MISMATCH")}, {report.SequencesRead} sequences, {report.VerifiedRecords} records byte-exact, LSN {report.FirstLsn}..{report.LastLsn}, cursor {report.CursorLsn}");
        foreach (var finding in report.Findings)
        {
            _logger.Note("  " + finding.Description);
        }

        return report;
    }

    private sealed class ChaosTally
    {
        public long Records { get; set; }

        public long Verified { get; set; }

        public int LossesSeen { get; set; }

        public int ReshippedWhileFollowing { get; set; }

        public int NumberingChanged { get; set; }

        public int Reshipped { get; set; }

        public int AllAuditsPassed { get; set; }

        public int StoppedNamingGap { get; set; }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Records} records appended, {Verified} records verified byte-exact by audits, {ReshippedWhileFollowing} reconciliations while following found the stream holding less than it had acknowledged and shipped the rest again, {NumberingChanged} acknowledgements at an unexpected sequence, {LossesSeen} audits found a node had lost acknowledged records, {Reshipped} times the replicator shipped them again after such an audit, {AllAuditsPassed} rounds with every audit passing, {StoppedNamingGap} rounds where the replicator stopped naming the gap");
    }
}
