using NATS.Client.Core;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Restoring;

/// <summary>What the restore refuses: a directory of another log, a stream with a gap or a regression, another history of the log.</summary>
public sealed class RestoreMismatchTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    private string Restored => Path.Combine(_log.Root, "restored");

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task RestoreAsync_DirectoryHoldsAnotherLog_RefusesNamingBothIdsAndWritesNothing()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, 100, ct);
        Guid other;
        await using (var wal = await Wal.OpenAsync(new WalOptions { Directory = Restored }))
        {
            other = wal.LogId;
            await wal.AppendAsync(new byte[] { 1 }, ct);
        }

        var error = await Assert.ThrowsAsync<ReplicationException>(() => NatsRestorer.Create(Restored, nats, Options(stream)).RestoreAsync(ct));

        using var reader = WalReader.Open(_log.Dir);
        Assert.Contains($"is another log (log id {other:N}) than the one stream '{stream}' holds (log id {reader.LogId:N})", error.Message, StringComparison.Ordinal);
        using var restored = WalReader.Open(Restored);
        Assert.Equal((other, 1L), (restored.LogId, restored.WrittenLsn));
    }

    [Theory]
    [InlineData(105L, 110L, true, 101L, "sequence 10 holds LSN 91 to 100 (batch 10), sequence 11 holds LSN 105 to 110 (batch 11): LSN 101 to 104 (4 LSNs) missing (a gap). The restore stops")]
    [InlineData(81L, 90L, false, 81L, "sequence 11 holds LSN 81 to 90 (batch 11): the LSNs go back")]
    public async Task RestoreAsync_GapOrRegressionInTheStream_ThrowsNamingSequenceAndLsnAndKeepsTheRestoredPrefix(long from, long to, bool withMsgId, long lsn, string words)
    {
        // After 100 records in 10 batches, a batch that leaves LSNs out, or one that goes back.
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, 100, ct, more: 20);
        await StreamPlanter.PublishBatchAsync(nats, _log.Subject, _log.Dir, from, to, 11, ct, withMsgId);

        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => NatsRestorer.Create(Restored, nats, Options(stream)).RestoreAsync(ct));

        Assert.Equal((11UL, lsn), (error.Sequence, error.Lsn));
        Assert.Contains(words, error.Message, StringComparison.Ordinal);
        await LogComparison.AssertSameAsync(_log.Dir, Restored, 1, 100, ct);
    }

    [Fact]
    public async Task RestoreAsync_RestoredLogWrittenToSinceThen_RefusesAnotherHistory()
    {
        // A restored log that was opened as a writer (promoted) and got records of its own cannot follow
        // the stream any more once the source's records for the same LSNs are in it.
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, 100, ct);
        Assert.Equal(100, await NatsRestorer.Create(Restored, nats, Options(stream)).RestoreAsync(ct));
        await using (var promoted = await Wal.OpenAsync(new WalOptions { Directory = Restored }))
        {
            await TestLog.AppendAsync(promoted, 5, seed: 101, ct);
        }

        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 20, seed: 102, ct);
            using var replicator = NatsReplicator.Create(wal, nats, Replicating(stream));
            Assert.Equal(120, await replicator.CatchUpAsync(ct));
        }

        var error = await Assert.ThrowsAsync<StreamMismatchException>(() => NatsRestorer.Create(Restored, nats, Options(stream)).RestoreAsync(ct));

        Assert.Equal(101, error.Lsn);
        Assert.Contains("holds another history of the log in", error.Message, StringComparison.Ordinal);
        Assert.Contains("has other bytes for LSN 101", error.Message, StringComparison.Ordinal);
        using var restored = WalReader.Open(Restored);
        Assert.Equal(105, restored.WrittenLsn);
    }

    private NatsRestorerOptions Options(string stream) => new() { StreamName = stream, Durability = Durability.Written, SegmentSize = 1024 * 1024, Logger = _logger };

    private NatsReplicatorOptions Replicating(string stream) => new() { StreamName = stream, BatchMaxRecords = 10, Logger = _logger };

    // Ships `records` in batches of 10 into a new stream, then appends `more` that are not shipped.
    private Task<string> ShipAsync(INatsConnection nats, int records, CancellationToken ct, int more = 0) =>
        Shipping.ShipAsync(_log, nats, Replicating(NatsServers.UniqueStream("restbad")), records, more, ct);
}
