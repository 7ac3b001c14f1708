using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Auditing;

/// <summary>The audit reads a whole stream and compares it with the log: every LSN once, in order, byte-exact.</summary>
public sealed class StreamAuditorTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestLog _log = new();
    private readonly TestOutputLogger _logger = new(output);

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData(NatsMessageFormat.Record, 1_000)]
    [InlineData(NatsMessageFormat.Batch, 10)]
    public async Task AuditAsync_ReplicatedStream_MatchesEveryRecordByteExact(NatsMessageFormat format, int messages)
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, "auditok", 1_000, 30, ct, format);

        var report = await AuditAsync(nats, stream, ct);

        Assert.True(report.IsMatch, string.Join(Environment.NewLine, report.Findings));
        Assert.Equal(1_000, report.VerifiedRecords);
        Assert.Equal(messages, report.VerifiedMessages);
        Assert.Equal(messages, report.SequencesRead);
        Assert.Equal((1L, 1_000L), (report.FirstLsn, report.LastLsn));
        Assert.Equal(1_000, report.CursorLsn);
        Assert.Equal(30, report.UnshippedLsns);
    }

    [Fact]
    public async Task AuditAsync_PlantedGapDuplicateAndChangedBytes_ReportsEachWithSequenceAndLsn()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, "auditbad", 100, 20, ct, NatsMessageFormat.Record);
        await StreamPlanter.PublishRecordAsync(nats, _log.Subject, _log.Dir, 102, ct);                    // seq 101: LSN 101 missing
        await StreamPlanter.PublishRecordAsync(nats, _log.Subject, _log.Dir, 102, ct, withMsgId: false);  // seq 102: LSN 102 again
        await StreamPlanter.PublishRecordAsync(nats, _log.Subject, _log.Dir, 103, ct, flipFirstByte: true); // seq 103: other bytes

        var report = await AuditAsync(nats, stream, ct);

        Assert.False(report.IsMatch);
        Assert.Equal(1, report.MissingLsns);
        Assert.Equal(1, report.Duplicates);
        Assert.Contains(report.Findings, f => f is { Kind: StreamAuditFindingKind.Gap, Sequence: 101, Lsn: 101 } && f.Description.StartsWith("gap: LSN 101 missing before sequence 101", StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f is { Kind: StreamAuditFindingKind.Duplicate, Sequence: 102, Lsn: 102 });
        Assert.Contains(report.Findings, f => f is { Kind: StreamAuditFindingKind.Mismatch, Sequence: 103, Lsn: 103 } && f.Description.Contains("differ from the log's", StringComparison.Ordinal));
        Assert.Equal(101, report.VerifiedMessages);
    }

    [Fact]
    public async Task AuditAsync_MessageDeleted_ReportsTheDeletedSequenceAndTheMissingLsn()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, "auditdel", 200, 0, ct, NatsMessageFormat.Record);
        var js = new NatsJSContext(nats);
        await (await js.GetStreamAsync(stream, cancellationToken: ct)).DeleteMessageAsync(new StreamMsgDeleteRequest { Seq = 77 }, ct);

        var report = await AuditAsync(nats, stream, ct);

        Assert.False(report.IsMatch);
        Assert.Equal(1, report.DeletedSequences);
        Assert.Equal(1, report.MissingLsns);
        Assert.Contains(report.Findings, f => f is { Kind: StreamAuditFindingKind.Deleted, Sequence: 77 });
        Assert.Contains(report.Findings, f => f is { Kind: StreamAuditFindingKind.Gap, Sequence: 78, Lsn: 77 });
    }

    [Fact]
    public async Task AuditAsync_PlantedBatchesWithGapRepeatAndChangedBytes_ReportsEachWithSequenceAndLsn()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, "auditbbad", 100, 40, ct);                                       // sequence 1: LSN 1 to 100
        await StreamPlanter.PublishBatchAsync(nats, _log.Subject, _log.Dir, 106, 110, 2, ct);                 // sequence 2: LSN 101 to 105 missing
        await StreamPlanter.PublishBatchAsync(nats, _log.Subject, _log.Dir, 108, 115, 3, ct);                 // sequence 3: LSN 108 to 110 again
        await StreamPlanter.PublishBatchAsync(nats, _log.Subject, _log.Dir, 116, 120, 4, ct, flipLsn: 118);   // sequence 4: LSN 118 other bytes

        var report = await AuditAsync(nats, stream, ct);

        Assert.False(report.IsMatch);
        Assert.Equal((5L, 3L, 1L), (report.MissingLsns, report.Duplicates, report.Mismatches));
        Assert.Contains(report.Findings, f => f is { Kind: StreamAuditFindingKind.Gap, Sequence: 2, Lsn: 101 } && f.Description.StartsWith("gap: LSN 101 to 105 (5 LSNs) missing before sequence 2", StringComparison.Ordinal));
        Assert.Contains(report.Findings, f => f is { Kind: StreamAuditFindingKind.Duplicate, Sequence: 3, Lsn: 108 });
        Assert.Contains(report.Findings, f => f is { Kind: StreamAuditFindingKind.Mismatch, Sequence: 4, Lsn: 118 } && f.Description.Contains("differ from the log's", StringComparison.Ordinal));
        Assert.Equal(2, report.VerifiedMessages);
        Assert.Equal(100 + 5 + 5 + 4, report.VerifiedRecords);
    }

    [Fact]
    public async Task AuditAsync_BatchDeleted_ReportsTheDeletedSequenceAndItsLsns()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, "auditbdel", 500, 0, ct);
        var js = new NatsJSContext(nats);
        await (await js.GetStreamAsync(stream, cancellationToken: ct)).DeleteMessageAsync(new StreamMsgDeleteRequest { Seq = 3 }, ct);

        var report = await AuditAsync(nats, stream, ct);

        Assert.False(report.IsMatch);
        Assert.Equal((1L, 100L), (report.DeletedSequences, report.MissingLsns));
        Assert.Contains(report.Findings, f => f is { Kind: StreamAuditFindingKind.Deleted, Sequence: 3 });
        Assert.Contains(report.Findings, f => f is { Kind: StreamAuditFindingKind.Gap, Sequence: 4, Lsn: 201 } && f.Description.StartsWith("gap: LSN 201 to 300 (100 LSNs) missing before sequence 4", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AuditAsync_StreamPurgedBehindTheCursor_ReportsEveryShippedLsnMissing()
    {
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, "auditpurge", 150, 0, ct);
        await new NatsJSContext(nats).PurgeStreamAsync(stream, new StreamPurgeRequest(), ct);

        var report = await AuditAsync(nats, stream, ct);

        Assert.False(report.IsMatch);
        Assert.Equal(150, report.MissingLsns);
        var finding = Assert.Single(report.Findings);
        Assert.Equal("gap: LSN 1 to 150 (150 LSNs) missing: the cursor says they were shipped, the stream's last LSN is 0", finding.Description);
    }

    [Fact]
    public async Task AuditAsync_CursorMovedBackBelowTheAcknowledgedMark_ReportsTheLostRecords()
    {
        // The replicator moved its cursor back to re-ship records the stream lost, and has not yet.
        var ct = Timeouts.Token();
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = await ShipAsync(nats, "auditmark", 120, 180, ct);
        using (var reader = WalReader.Open(_log.Dir))
        {
            await reader.CommitCursorAsync(LogNames.AcknowledgedMark(LogNames.DefaultCursor(stream)), 300, ct);
        }

        var report = await AuditAsync(nats, stream, ct);

        Assert.False(report.IsMatch);
        Assert.Equal((120L, 300L), (report.CursorLsn, report.AcknowledgedLsn));
        Assert.Equal(180, report.MissingLsns);
        var finding = Assert.Single(report.Findings);
        Assert.Equal("gap: LSN 121 to 300 (180 LSNs) missing: the stream had acknowledged them (the replicator's mark is at LSN 300, its cursor at 120), the stream's last LSN is 120", finding.Description);
    }

    // Ships `shipped` records (batches of at most 100), then appends `more` that are not shipped yet.
    private Task<string> ShipAsync(INatsConnection nats, string prefix, int shipped, int more, CancellationToken ct, NatsMessageFormat format = NatsMessageFormat.Batch) =>
        Shipping.ShipAsync(_log, nats, new NatsReplicatorOptions { StreamName = NatsServers.UniqueStream(prefix), Format = format, BatchMaxRecords = 100, Logger = _logger }, shipped, more, ct);

    private async Task<StreamAuditReport> AuditAsync(INatsConnection nats, string stream, CancellationToken ct)
    {
        var report = await StreamAuditor.AuditAsync(_log.Dir, nats, new StreamAuditOptions { StreamName = stream }, ct);
        foreach (var finding in report.Findings)
        {
            _logger.Note(finding.Description);
        }

        return report;
    }
}
