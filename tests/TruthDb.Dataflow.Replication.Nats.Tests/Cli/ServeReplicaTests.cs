using TruthDb.Dataflow.Ipc;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Cli;

/// <summary>
/// A restored read replica served to IPC clients, end to end with real processes: a writer, <c>truthdb
/// replicate</c> into JetStream, <c>truthdb restore --follow</c> building the replica, and <c>truthdb serve
/// --read-only</c> on it beside the restorer.
/// </summary>
public sealed class ServeReplicaTests : IDisposable
{
    private readonly TestLog _log = new();

    private string Replica => Path.Combine(_log.Root, "replica");

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task ServeReadOnly_OnAFollowingReplica_AnIpcTailSeesWhatTheSourceAppendsAfterwardsByteForByte()
    {
        var ct = Timeouts.Token();
        var stream = NatsServers.UniqueStream("servereplica");
        await using var wal = await _log.OpenAsync();
        await TestLog.AppendAsync(wal, 100, seed: 141, ct);
        await using var replicate = TruthdbProcess.Start(["replicate", "--dir", _log.Dir, "--nats", NatsServers.SingleUrl, "--stream", stream, "--interval", "0.05"]);
        await replicate.WaitForOutputAsync(o => o.Contains("shipped LSN 100 ", StringComparison.Ordinal), ct);
        await using var restore = TruthdbProcess.Start(["restore", "--dir", Replica, "--nats", NatsServers.SingleUrl, "--stream", stream, "--follow", "--interval", "0.05"]);
        await restore.WaitForOutputAsync(o => o.Contains("restored LSN 100 ", StringComparison.Ordinal), ct);

        // The restorer holds the replica's writer lock; the read-only server needs none.
        var socket = Path.Combine(_log.Root, "replica.sock");
        await using var serve = TruthdbProcess.Start(["serve", "--dir", Replica, "--socket", socket, "--read-only"]);
        await serve.WaitForStderrAsync("truthdb: serving", ct);
        Assert.Contains("read-only (log ", serve.Stderr, StringComparison.Ordinal);
        await using var client = await TruthDbClient.ConnectAsync(socket, ct: ct);
        Assert.True(client.IsReadOnly);
        Assert.Equal(wal.LogId, client.LogId);

        var caughtUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tail = RecordCopies.CopyAsync(client.ReadAsync(0, new ReadOptions { Follow = true }, ct), last: 600, seen: lsn =>
        {
            if (lsn == 100)
            {
                caughtUp.SetResult();
            }
        });
        await caughtUp.Task.WaitAsync(ct);
        await TestLog.AppendAsync(wal, 500, seed: 142, ct);
        var tailed = await tail.WaitAsync(ct);

        var source = await RecordCopies.CopyAsync(wal.ReadAsync(1, ct: ct));
        Assert.Equal(600, source.Count);
        RecordCopies.AssertSame(source, tailed);

        // Writes go to the writer: the replica's server refuses them and goes on serving.
        var refused = await Assert.ThrowsAsync<TruthDbException>(async () => await client.AppendAsync(new byte[] { 1 }, ct));
        Assert.Equal(TruthDbErrorCode.ReadOnly, refused.ErrorCode);
        Assert.Equal(600, (await client.GetStatisticsAsync(ct)).WrittenLsn);

        await serve.SignalAsync("TERM", ct);
        var served = await serve.WaitAsync(ct);
        Assert.True(served.ExitCode == 0, served.ToString());
        await restore.SignalAsync("TERM", ct);
        var stopped = await restore.WaitAsync(ct);
        Assert.True(stopped.ExitCode == 0, stopped.ToString());
        Assert.Contains($"stopped: the log in '{Replica}' holds up to LSN 600", stopped.Stdout, StringComparison.Ordinal);
        await LogComparison.AssertSameAsync(_log.Dir, Replica, 1, 600, ct);
    }
}
