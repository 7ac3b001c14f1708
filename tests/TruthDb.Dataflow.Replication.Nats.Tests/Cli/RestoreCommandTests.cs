using System.Globalization;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Cli;

/// <summary><c>truthdb restore</c> as a user runs it: a copy of the log, a read replica that <c>truthdb tail</c> follows, and what it refuses.</summary>
public sealed class RestoreCommandTests : IDisposable
{
    private readonly TestLog _log = new();

    private string Restored => Path.Combine(_log.Root, "restored");

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Restore_StreamThatReplicateFed_ExitsZeroAndTheLogEqualsTheSource()
    {
        var ct = Timeouts.Token();
        var stream = NatsServers.UniqueStream("clirestore");
        await AppendAsync(300, ct);
        var shipped = await TruthdbProcess.RunAsync(["replicate", "--dir", _log.Dir, "--nats", NatsServers.SingleUrl, "--stream", stream, "--until-caught-up", "--batch-records", "50"], ct);
        Assert.True(shipped.ExitCode == 0, shipped.ToString());

        var result = await TruthdbProcess.RunAsync(["restore", "--dir", Restored, "--nats", NatsServers.SingleUrl, "--stream", stream], ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"restored: the log in '{Restored}' holds up to LSN 300 (the stream up to 300); 300 records in 6 messages", result.Stdout, StringComparison.Ordinal);
        await LogComparison.AssertSameAsync(_log.Dir, Restored, 1, 300, ct);
    }

    [Fact]
    public async Task Restore_FollowingWhileReplicateShips_TailOfTheReplicaSeesEveryRecordAndSigtermStopsIt()
    {
        var ct = Timeouts.Token();
        var stream = NatsServers.UniqueStream("clireplica");
        await using var wal = await _log.OpenAsync();
        await TestLog.AppendAsync(wal, 100, seed: 121, ct);
        await using var replicate = TruthdbProcess.Start(["replicate", "--dir", _log.Dir, "--nats", NatsServers.SingleUrl, "--stream", stream, "--interval", "0.05"]);
        await replicate.WaitForOutputAsync(o => o.Contains("shipped LSN 100 ", StringComparison.Ordinal), ct);
        await using var restore = TruthdbProcess.Start(["restore", "--dir", Restored, "--nats", NatsServers.SingleUrl, "--stream", stream, "--follow", "--interval", "0.05"]);
        await restore.WaitForOutputAsync(o => o.Contains("restored LSN 100 ", StringComparison.Ordinal), ct);

        // The replica is a log like any other: tail reads it while the restorer writes it.
        await using var tail = TruthdbProcess.Start(["tail", "--dir", Restored, "--to", "600", "--format", "hex"]);
        await TestLog.AppendAsync(wal, 500, seed: 122, ct);
        var tailed = await tail.WaitAsync(ct);

        Assert.True(tailed.ExitCode == 0, tailed.ToString());
        var lines = tailed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(600, lines.Length);
        var expected = new List<string>();
        await foreach (var record in wal.ReadAsync(1, ct: ct))
        {
            expected.Add(record.Lsn.ToString(CultureInfo.InvariantCulture) + "\t" + Convert.ToHexStringLower(record.Payload.Span));
        }

        Assert.Equal(expected, lines);
        await restore.SignalAsync("TERM", ct);
        var stopped = await restore.WaitAsync(ct);
        Assert.True(stopped.ExitCode == 0, stopped.ToString());
        Assert.Contains($"stopped: the log in '{Restored}' holds up to LSN 600", stopped.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_GapInTheStream_ExitsFiveNamingSequenceAndLsn()
    {
        var ct = Timeouts.Token();
        var stream = NatsServers.UniqueStream("cligaprestore");
        await AppendAsync(100, ct);
        Assert.Equal(0, (await TruthdbProcess.RunAsync(["replicate", "--dir", _log.Dir, "--nats", NatsServers.SingleUrl, "--stream", stream, "--until-caught-up", "--format", "record"], ct)).ExitCode);
        await AppendAsync(20, ct);
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        await StreamPlanter.PublishRecordAsync(nats, _log.Subject, _log.Dir, 105, ct);

        var result = await TruthdbProcess.RunAsync(["restore", "--dir", Restored, "--nats", NatsServers.SingleUrl, "--stream", stream], ct);

        Assert.True(result.ExitCode == 5, result.ToString());
        Assert.Contains("sequence 100 holds LSN 100, sequence 101 holds LSN 105: LSN 101 to 104 (4 LSNs) missing (a gap)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"failed: the log in '{Restored}' holds up to LSN 100", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_DirectoryHoldingAnotherLog_ExitsOneNamingIt()
    {
        var ct = Timeouts.Token();
        var stream = NatsServers.UniqueStream("climixup");
        await AppendAsync(10, ct);
        Assert.Equal(0, (await TruthdbProcess.RunAsync(["replicate", "--dir", _log.Dir, "--nats", NatsServers.SingleUrl, "--stream", stream, "--until-caught-up"], ct)).ExitCode);
        await using (var other = await Wal.OpenAsync(new WalOptions { Directory = Restored }))
        {
            await other.AppendAsync(new byte[] { 1 }, ct);
        }

        var result = await TruthdbProcess.RunAsync(["restore", "--dir", Restored, "--nats", NatsServers.SingleUrl, "--stream", stream], ct);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"The log in '{Restored}' is another log", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--stream", "bad.name", "is not a stream name")]
    [InlineData("--concurrency", "0", "--concurrency must be at least 1")]
    [InlineData("--durability", "maybe", "maybe")]
    public async Task Restore_BadArguments_ExitsTwoWithAMessage(string option, string value, string message)
    {
        string[] args = option == "--stream"
            ? ["restore", "--dir", Restored, "--stream", value]
            : ["restore", "--dir", Restored, "--stream", "ok", option, value];
        var result = await TruthdbProcess.RunAsync(args, Timeouts.Token());
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
    }

    private async Task AppendAsync(int count, CancellationToken ct)
    {
        await using var wal = await _log.OpenAsync();
        await TestLog.AppendAsync(wal, count, seed: count, ct);
    }
}
