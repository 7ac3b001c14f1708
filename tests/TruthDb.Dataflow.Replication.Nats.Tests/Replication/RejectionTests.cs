using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Replication;

/// <summary>A stream that refuses a publish stops the replicator with an error naming the LSN; nothing after it is marked shipped.</summary>
public sealed class RejectionTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData(NatsMessageFormat.Record, 100)]
    [InlineData(NatsMessageFormat.Batch, 2)]
    public async Task CatchUpAsync_StreamFull_ThrowsNamingFirstRefusedLsnAndCursorStaysBelowIt(NatsMessageFormat format, int maxMessages)
    {
        // 100 records fill the stream: 100 messages of one record, or 2 batches of 50.
        var ct = Timeouts.Token();
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 150, seed: 11, ct);
        }

        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = NatsServers.UniqueStream("full");
        using var replicator = NatsReplicator.Open(_log.Dir, nats, new NatsReplicatorOptions { StreamName = stream, Format = format, BatchMaxRecords = 50, MaxMessages = maxMessages, Logger = _logger });
        var error = await Assert.ThrowsAsync<ReplicationRejectedException>(() => replicator.CatchUpAsync(ct));

        Assert.Equal(101, error.Lsn);
        Assert.Equal(10077, error.ErrorCode);
        Assert.Contains("LSN 101", error.Message, StringComparison.Ordinal);
        Assert.Equal((100L, 50L), (replicator.GetProgress().ShippedLsn, replicator.GetProgress().LagLsns));
        using var reader = WalReader.Open(_log.Dir);
        Assert.Equal(100, reader.GetCursor(replicator.CursorName));
        await StreamChecks.AssertHoldsLogAsync(nats, stream, _log.Dir, 100, ct);
    }

    [Theory]
    [InlineData(NatsMessageFormat.Record)]
    [InlineData(NatsMessageFormat.Batch)]
    public async Task RunAsync_ForeignMessageBreaksTheChain_ThrowsNamingLsnAndShipsNothingAfter(NatsMessageFormat format)
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = NatsServers.UniqueStream("foreign");
        await using var wal = await _log.OpenAsync();
        await TestLog.AppendAsync(wal, 50, seed: 12, ct);
        using var replicator = NatsReplicator.Create(wal, nats, new NatsReplicatorOptions { StreamName = stream, Format = format, Logger = _logger });
        var run = replicator.RunAsync(ct);
        await await Task.WhenAny(run, replicator.WaitForShippedAsync(50, ct));

        // Another publisher writes into the stream: the next record's expected last message id no longer holds.
        var ack = await new NatsJSContext(nats).PublishAsync(_log.Subject, "not from the log"u8.ToArray(), cancellationToken: ct);
        ack.EnsureSuccess();
        await TestLog.AppendAsync(wal, 10, seed: 13, ct);

        var error = await Assert.ThrowsAsync<ReplicationRejectedException>(() => run);
        Assert.Equal(51, error.Lsn);
        Assert.Equal(10070, error.ErrorCode);
        Assert.Equal(50, replicator.GetProgress().ShippedLsn);
        Assert.Equal(50, wal.GetCursor(replicator.CursorName));
        var info = await new NatsJSContext(nats).GetStreamAsync(stream, cancellationToken: ct);
        Assert.Equal(replicator.GetProgress().MessagesShipped + 1, info.Info.State.Messages);
    }

    [Fact]
    public async Task CatchUpAsync_StreamFedByAnotherLog_ThrowsNamingBothLogIds()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = NatsServers.UniqueStream("twologs");
        using var other = new TestLog();
        await using (var wal = await other.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 5, seed: 14, ct);
        }

        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 5, seed: 15, ct);
        }

        var options = new NatsReplicatorOptions { StreamName = stream, LogName = "shared-" + Guid.NewGuid().ToString("N")[..8], Logger = _logger };
        using (var first = NatsReplicator.Open(other.Dir, nats, options))
        {
            Assert.Equal(5, await first.CatchUpAsync(ct));
        }

        using var second = NatsReplicator.Open(_log.Dir, nats, options);
        var error = await Assert.ThrowsAsync<ReplicationException>(() => second.CatchUpAsync(ct));
        Assert.Contains("fed by another log", error.Message, StringComparison.Ordinal);
        using var reader = WalReader.Open(_log.Dir);
        Assert.Contains(reader.LogId.ToString("N"), error.Message, StringComparison.Ordinal);
        Assert.Equal(0, reader.GetCursor(second.CursorName));
    }

    [Fact]
    public async Task CatchUpAsync_ExistingStreamWithOtherStorageOrSubjects_ThrowsSayingWhatDoesNotFit()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = NatsServers.UniqueStream("misfit");
        await new NatsJSContext(nats).CreateStreamAsync(new NATS.Client.JetStream.Models.StreamConfig(stream, ["elsewhere-" + Guid.NewGuid().ToString("N") + ".>"]), ct);
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 3, seed: 16, ct);
        }

        using var replicator = NatsReplicator.Open(_log.Dir, nats, new NatsReplicatorOptions { StreamName = stream, Storage = NatsStreamStorage.Memory });
        var error = await Assert.ThrowsAsync<ReplicationException>(() => replicator.CatchUpAsync(ct));
        Assert.Contains("does not fit", error.Message, StringComparison.Ordinal);
        Assert.Contains("do not capture 'truthdb." + _log.Name + "'", error.Message, StringComparison.Ordinal);
        Assert.Contains("File storage, not Memory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CatchUpAsync_SubjectTakenByAnotherStream_ThrowsAtOnce()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        await new NatsJSContext(nats).CreateStreamAsync(new NATS.Client.JetStream.Models.StreamConfig(NatsServers.UniqueStream("owner"), [_log.Subject]), ct);
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 1, seed: 18, ct);
        }

        using var replicator = NatsReplicator.Open(_log.Dir, nats, new NatsReplicatorOptions { StreamName = NatsServers.UniqueStream("second") });
        var error = await Assert.ThrowsAsync<ReplicationException>(() => replicator.CatchUpAsync(ct));
        Assert.Contains("JetStream refused", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, replicator.GetProgress().Retries);
    }

    [Theory]
    [InlineData(NatsMessageFormat.Record)]
    [InlineData(NatsMessageFormat.Batch)]
    public async Task CatchUpAsync_RecordLargerThanMaxPayload_ThrowsNamingItsLsnAtOnce(NatsMessageFormat format)
    {
        var ct = Timeouts.Token();
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 5, seed: 19, ct);
            await wal.AppendAsync(new byte[(1 << 20) + 1], ct);
            await TestLog.AppendAsync(wal, 5, seed: 20, ct);
        }

        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        using var replicator = NatsReplicator.Open(_log.Dir, nats, new NatsReplicatorOptions { StreamName = NatsServers.UniqueStream("large"), Format = format, Logger = _logger });
        var error = await Assert.ThrowsAsync<ReplicationRejectedException>(() => replicator.CatchUpAsync(ct));
        Assert.Equal(6, error.Lsn);
        Assert.Contains("max_payload", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, replicator.GetProgress().Retries);
        await StreamChecks.AssertHoldsLogAsync(nats, replicator.StreamName, _log.Dir, 5, ct);
    }

    [Fact]
    public async Task Publish_ExpectedLastSubjectSequenceZero_IsRefusedOnceTheSubjectHoldsAMessage()
    {
        // The server behaviour the first record into an empty stream relies on (nats-server 2.9).
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var js = new NatsJSContext(nats);
        var subject = "probe." + Guid.NewGuid().ToString("N");
        await js.CreateStreamAsync(new NATS.Client.JetStream.Models.StreamConfig(NatsServers.UniqueStream("probe"), [subject]), ct);
        var opts = new NatsJSPubOpts { ExpectedLastSubjectSequence = 0 };
        var first = await js.PublishAsync(subject, "one"u8.ToArray(), opts: opts, cancellationToken: ct);
        first.EnsureSuccess();
        var second = await js.TryPublishAsync(subject, "two"u8.ToArray(), opts: opts, cancellationToken: ct);
        Assert.False(second.Success && second.Value.Error is null, "a second message expecting an empty subject was stored");
    }

    [Fact]
    public async Task CatchUpAsync_MissingStreamAndCreationOff_Throws()
    {
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 1, seed: 17, Timeouts.Token());
        }

        using var replicator = NatsReplicator.Open(_log.Dir, nats, new NatsReplicatorOptions { StreamName = NatsServers.UniqueStream("absent"), CreateStream = false });
        var error = await Assert.ThrowsAsync<ReplicationException>(() => replicator.CatchUpAsync(Timeouts.Token()));
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }
}
