using System.Globalization;
using System.Text.RegularExpressions;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Cli;

/// <summary>The log's own process (the writer) is killed while <c>truthdb replicate</c> follows it from another process.</summary>
public sealed partial class WriterCrashTests : IDisposable
{
    private readonly TestLog _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Replicate_WriterProcessKilledAndRestarted_StreamHoldsEveryLsnOnce()
    {
        var ct = Timeouts.Token(3);
        var stream = NatsServers.UniqueStream("writercrash");
        await using (var wal = await _log.OpenAsync(Durability.Sync))
        {
            await TestLog.AppendAsync(wal, 100, seed: 51, ct);
        }

        await using var replicator = TruthdbProcess.Start(["replicate", "--dir", _log.Dir, "--nats", NatsServers.SingleUrl, "--stream", stream, "--interval", "0.05"]);
        await replicator.WaitForOutputAsync(o => Shipped(o) >= 100, ct);
        for (var round = 0; round < 3; round++)
        {
            // A writer process appending durably as fast as it can, killed with SIGKILL mid-run.
            var before = Shipped(replicator.Stdout);
            await using var writer = TruthdbProcess.Start(["bench", "--dir", _log.Dir, "--duration", "60", "--producers", "2", "--record-size", "64", "--segment-size", "4MiB"]);
            await replicator.WaitForOutputAsync(o => Shipped(o) >= before + 500, ct);
            await writer.KillAsync(ct);
        }

        // A last writer recovers the log (dropping only a torn, never-durable tail) and appends more.
        long last;
        await using (var wal = await _log.OpenAsync(Durability.Sync))
        {
            await TestLog.AppendAsync(wal, 50, seed: 52, ct);
            last = wal.DurableLsn;
        }

        await replicator.WaitForOutputAsync(o => Shipped(o) >= last, ct);
        await replicator.SignalAsync("TERM", ct);
        var result = await replicator.WaitAsync(ct);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("stopped: shipped up to LSN " + last.ToString(CultureInfo.InvariantCulture), result.Stdout, StringComparison.Ordinal);
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        await StreamChecks.AssertHoldsLogAsync(nats, stream, _log.Dir, last, ct);
    }

    private static long Shipped(string output)
    {
        var matches = ShippedLsn().Matches(output);
        return matches.Count == 0 ? 0 : long.Parse(matches[^1].Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^shipped LSN (\d+) ", RegexOptions.Multiline)]
    private static partial Regex ShippedLsn();
}
