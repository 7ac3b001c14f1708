using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Cli;

/// <summary><c>truthdb replicate</c> as a user runs it, beside the process that appends.</summary>
public sealed class ReplicateCommandTests : IDisposable
{
    private readonly TestLog _log = new();

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData("--stream", "bad.name", "is not a stream name")]
    [InlineData("--subject", "truthdb.*", "is not a literal subject")]
    [InlineData("--replicas", "0", "--replicas must be at least 1")]
    [InlineData("--storage", "tape", "tape")]
    [InlineData("--format", "lines", "lines")]
    [InlineData("--batch-records", "0", "--batch-records must be at least 1")]
    [InlineData("--batch-records", "1000001", "--batch-records must be at most 1000000")]
    [InlineData("--batch-bytes", "100", "--batch-bytes is 100 B; it must be 1 KiB to 64 MiB")]
    public async Task Replicate_BadArguments_ExitsTwoWithAMessage(string option, string value, string message)
    {
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 1, seed: 41, Timeouts.Token());
        }

        string[] args = option == "--stream"
            ? ["replicate", "--dir", _log.Dir, "--stream", value]
            : ["replicate", "--dir", _log.Dir, "--stream", "ok", option, value];
        var result = await TruthdbProcess.RunAsync(args, Timeouts.Token());
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replicate_NoServer_ExitsOneSayingSo()
    {
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 1, seed: 42, Timeouts.Token());
        }

        var result = await TruthdbProcess.RunAsync(["replicate", "--dir", _log.Dir, "--stream", "s", "--nats", "nats://127.0.0.1:1"], Timeouts.Token());
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("Cannot connect to NATS at nats://127.0.0.1:1", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("record", "20")]
    [InlineData("batch", "2")]
    public async Task Replicate_StreamFull_ExitsOneNamingTheRejectedLsn(string format, string maxMessages)
    {
        // 20 records fill the stream: 20 messages of one record, or 2 batches of 10.
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 30, seed: 43, Timeouts.Token());
        }

        var stream = NatsServers.UniqueStream("clifull");
        var result = await TruthdbProcess.RunAsync(["replicate", "--dir", _log.Dir, "--nats", NatsServers.SingleUrl, "--stream", stream, "--max-messages", maxMessages, "--format", format, "--batch-records", "10"], Timeouts.Token());
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("JetStream rejected the publish of LSN 21: maximum messages exceeded", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("failed: shipped up to LSN 20 (cursor at 20);", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("lag 10 LSNs", result.Stdout, StringComparison.Ordinal);
        using var reader = WalReader.Open(_log.Dir);
        Assert.Equal(20, reader.GetCursor("replicator-" + stream));
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Replicate_FollowingWhileAnotherProcessAppends_StopsCleanlyOnSignalWithCursorAtShippedLsn(string signal)
    {
        var ct = Timeouts.Token();
        var stream = NatsServers.UniqueStream("clistop");
        await using var wal = await _log.OpenAsync();
        await TestLog.AppendAsync(wal, 500, seed: 44, ct);
        await using var child = TruthdbProcess.Start(["replicate", "--dir", _log.Dir, "--nats", NatsServers.SingleUrl, "--stream", stream, "--interval", "0.05"]);
        await child.WaitForOutputAsync(o => o.Contains("shipped LSN 500 ", StringComparison.Ordinal), ct);

        // Records appended by this process while the replicator follows are shipped too.
        await TestLog.AppendAsync(wal, 100, seed: 45, ct);
        await child.WaitForOutputAsync(o => o.Contains("shipped LSN 600 ", StringComparison.Ordinal), ct);
        Assert.Contains("lag 0 LSNs", child.Stdout, StringComparison.Ordinal);
        await child.SignalAsync(signal, ct);
        var result = await child.WaitAsync(ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("stopped: shipped up to LSN 600 (cursor at 600)", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(600, wal.GetCursor("replicator-" + stream));
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        await StreamChecks.AssertHoldsLogAsync(nats, stream, _log.Dir, 600, ct);
    }
}
