using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Cli;

/// <summary><c>truthdb replicate --audit</c>, and <c>truthdb replicate</c> on a stream that lost messages, as a user runs them.</summary>
public sealed class ReplicateAuditTests : IDisposable
{
    private readonly TestLog _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task ReplicateAudit_StreamMatchesTheLog_ExitsZeroSayingSo()
    {
        var ct = Timeouts.Token();
        var stream = NatsServers.UniqueStream("cliaudit");
        await AppendAsync(300, ct);
        var shipped = await TruthdbProcess.RunAsync([.. Args(stream), "--until-caught-up"], ct);
        Assert.True(shipped.ExitCode == 0, shipped.ToString());

        var result = await TruthdbProcess.RunAsync([.. Args(stream), "--audit"], ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("match: 1 messages, every LSN from 1 to 300 exactly once, in order; 300 records byte-exact with the log", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replicate_GapPlantedInTheStream_ExitsFiveNamingSequenceAndLsnAndAuditListsIt()
    {
        var ct = Timeouts.Token();
        var stream = NatsServers.UniqueStream("cligap");
        await AppendAsync(100, ct);
        Assert.Equal(0, (await TruthdbProcess.RunAsync([.. Args(stream), "--until-caught-up", "--format", "record"], ct)).ExitCode);
        await AppendAsync(20, ct);
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        await StreamPlanter.PublishRecordAsync(nats, _log.Subject, _log.Dir, 105, ct);

        var replicate = await TruthdbProcess.RunAsync([.. Args(stream), "--until-caught-up", "--format", "record"], ct);
        var audit = await TruthdbProcess.RunAsync([.. Args(stream), "--audit"], ct);

        Assert.True(replicate.ExitCode == 5, replicate.ToString());
        Assert.Contains("sequence 100 holds LSN 100, sequence 101 holds LSN 105: LSN 101 to 104 (4 LSNs) missing (a gap)", replicate.Stderr, StringComparison.Ordinal);
        Assert.True(audit.ExitCode == 5, audit.ToString());
        Assert.Contains("gap: LSN 101 to 104 (4 LSNs) missing before sequence 101", audit.Stdout, StringComparison.Ordinal);
        Assert.Contains("MISMATCH: 4 LSNs missing, 0 duplicates", audit.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replicate_StreamPurged_ShipsEverythingAgainAndAuditPasses()
    {
        var ct = Timeouts.Token();
        // A purge leaves the message ids in the duplicate window, which drops the records shipped again
        // until it has passed: a 1 s window keeps that wait short.
        var stream = NatsServers.UniqueStream("clipurge");
        await AppendAsync(200, ct);
        Assert.Equal(0, (await TruthdbProcess.RunAsync([.. Args(stream), "--until-caught-up", "--duplicate-window", "1"], ct)).ExitCode);
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        await new NatsJSContext(nats).PurgeStreamAsync(stream, new StreamPurgeRequest(), ct);
        var before = await TruthdbProcess.RunAsync([.. Args(stream), "--audit"], ct);

        var replicate = await TruthdbProcess.RunAsync([.. Args(stream), "--until-caught-up"], ct);
        var after = await TruthdbProcess.RunAsync([.. Args(stream), "--audit"], ct);

        Assert.True(before.ExitCode == 5, before.ToString());
        Assert.True(replicate.ExitCode == 0, replicate.ToString());
        Assert.Contains("holds only up to LSN 0", replicate.Stderr, StringComparison.Ordinal);
        Assert.Contains("caught up: shipped up to LSN 200 (cursor at 200); 200 records in 1 messages", replicate.Stdout, StringComparison.Ordinal);
        Assert.True(after.ExitCode == 0, after.ToString());
    }

    [Fact]
    public async Task ReplicateAudit_WithUntilCaughtUp_ExitsTwo()
    {
        await AppendAsync(1, Timeouts.Token());
        var result = await TruthdbProcess.RunAsync([.. Args("s"), "--audit", "--until-caught-up"], Timeouts.Token());
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--audit and --until-caught-up exclude each other", result.Stderr, StringComparison.Ordinal);
    }

    private string[] Args(string stream) => ["replicate", "--dir", _log.Dir, "--nats", NatsServers.SingleUrl, "--stream", stream];

    private async Task AppendAsync(int count, CancellationToken ct)
    {
        await using var wal = await _log.OpenAsync();
        await TestLog.AppendAsync(wal, count, seed: count, ct);
    }
}
