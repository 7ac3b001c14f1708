using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Ipc.Tests.Support;

namespace TruthDb.Dataflow.Ipc.Tests.Server;

/// <summary>
/// The segments and cursors of a Stats reply, on the writer's server and on a read-only one: what the
/// served log knows, which is what the files hold (<see cref="LogInspector.GetStats"/>), but for what
/// only the files tell.
/// </summary>
public sealed class StatsTests : IDisposable
{
    private const int SegmentSize = 64 * 1024;
    private readonly TestLog _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Stats_WritableServerAfterRollsAndACursorCommit_SegmentsAndCursorsAreTheLogs()
    {
        var ct = Timeouts.Token();
        await using var wal = await Wal.OpenAsync(Options());
        await using var server = new TruthDbServer(wal);
        await server.ListenAsync(_log.Socket);
        await using var client = await TruthDbClient.ConnectAsync(_log.Socket, ct: ct);
        for (var i = 1; i <= 200; i++)
        {
            await client.AppendAsync(Record(i), ct);
        }

        await client.CommitCursorAsync("job", 120, ct);

        var stats = await client.GetStatisticsAsync(ct);

        Assert.True(stats.Segments.Count >= 3, $"{stats.Segments.Count} segments: the appends did not roll");
        AssertSameSegments(LogInspector.GetStats(_log.Dir).Segments, stats.Segments, lastSealed: false);
        Assert.Equal(Describe(wal.GetSegments()), Describe(stats.Segments));
        Assert.Equal((200L, 200L), (stats.WrittenLsn, stats.Segments[^1].LastLsn));
        Assert.Equal(new Dictionary<string, long> { ["job"] = 120 }, stats.Cursors);
        Assert.Equal(wal.Cursors, stats.Cursors);

        // Retention drops the oldest segments: the next reply starts where the log does.
        await client.TruncateBeforeAsync(150, ct);
        var after = await client.GetStatisticsAsync(ct);
        Assert.Equal(wal.FirstLsn, after.Segments[0].FirstLsn);
        Assert.True(after.Segments.Count < stats.Segments.Count);
        AssertSameSegments(LogInspector.GetStats(_log.Dir).Segments, after.Segments, lastSealed: false);
    }

    [Fact]
    public async Task Stats_ReadOnlyServerBesideTheWriter_SegmentsAndCursorsAreTheLogsAndTheLastSealIsUnknown()
    {
        var ct = Timeouts.Token();
        await using var wal = await Wal.OpenAsync(Options());
        await AppendAsync(wal, 1, 150, ct);
        await wal.CommitCursorAsync("etl", 75, ct);
        using var reader = WalReader.Open(_log.Dir);
        await using var server = TruthDbServer.CreateReadOnly(reader);
        await server.ListenAsync(_log.Socket);
        await using var client = await TruthDbClient.ConnectAsync(_log.Socket, ct: ct);

        var stats = await client.GetStatisticsAsync(ct);

        Assert.True(stats.ReadOnly);
        Assert.True(stats.Segments.Count >= 2, $"{stats.Segments.Count} segments: the appends did not roll");
        AssertSameSegments(LogInspector.GetStats(_log.Dir).Segments, stats.Segments, lastSealed: null);
        Assert.Equal((150L, 150L), (stats.WrittenLsn, stats.Segments[^1].LastLsn));
        Assert.Equal(new Dictionary<string, long> { ["etl"] = 75 }, stats.Cursors);

        // The writer goes on (it rolls again, and a reader commits a cursor of its own): the next reply sees it.
        await AppendAsync(wal, 151, 250, ct);
        await reader.CommitCursorAsync("replica-side", 200, ct);
        var later = await client.GetStatisticsAsync(ct);
        Assert.True(later.Segments.Count > stats.Segments.Count);
        AssertSameSegments(LogInspector.GetStats(_log.Dir).Segments, later.Segments, lastSealed: null);
        Assert.Equal(250, later.Segments[^1].LastLsn);
        Assert.Equal(new Dictionary<string, long> { ["etl"] = 75, ["replica-side"] = 200 }, later.Cursors);
    }

    [Fact]
    public async Task Stats_ReadOnlyServerOfAClosedLog_SegmentsAndCursorsAsTheFilesProve()
    {
        var ct = Timeouts.Token();
        await using (var wal = await Wal.OpenAsync(Options()))
        {
            await AppendAsync(wal, 1, 120, ct);
            await wal.CommitCursorAsync("etl", 120, ct);
        }

        using var reader = WalReader.Open(_log.Dir);
        await using var server = TruthDbServer.CreateReadOnly(reader);
        await server.ListenAsync(_log.Socket);
        await using var client = await TruthDbClient.ConnectAsync(_log.Socket, ct: ct);

        var stats = await client.GetStatisticsAsync(ct);

        AssertSameSegments(LogInspector.GetStats(_log.Dir).Segments, stats.Segments, lastSealed: null);
        Assert.Equal(120, stats.Segments[^1].LastLsn);
        Assert.Equal(new Dictionary<string, long> { ["etl"] = 120 }, stats.Cursors);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stats_CursorFileDamagedAfterTheServerOpenedTheLog_FailsAsCorruptedNamingTheFile(bool readOnly)
    {
        var ct = Timeouts.Token();
        await using var wal = await Wal.OpenAsync(Options());
        await AppendAsync(wal, 1, 20, ct);
        await wal.CommitCursorAsync("etl", 10, ct);
        await wal.CommitCursorAsync("job", 15, ct);
        using var reader = WalReader.Open(_log.Dir);
        await using var server = readOnly ? TruthDbServer.CreateReadOnly(reader) : new TruthDbServer(wal);
        await server.ListenAsync(_log.Socket);
        await using var client = await TruthDbClient.ConnectAsync(_log.Socket, ct: ct);
        Assert.Equal(new Dictionary<string, long> { ["etl"] = 10, ["job"] = 15 }, (await client.GetStatisticsAsync(ct)).Cursors);

        // Garbage over the whole cursor file, as a bad disk or a stray write would leave it.
        var file = Path.Combine(_log.Dir, "cursor-job.cur");
        await File.WriteAllBytesAsync(file, Enumerable.Repeat((byte)0xA5, (int)new FileInfo(file).Length).ToArray(), ct);

        var error = await Assert.ThrowsAsync<TruthDbException>(async () => await client.GetStatisticsAsync(ct));
        Assert.Equal(TruthDbErrorCode.Corrupted, error.ErrorCode);
        Assert.Contains("'cursor-job.cur'", error.Message, StringComparison.Ordinal);

        // Only that request failed: the connection goes on, and once the cursor is committed again Stats answers.
        await wal.CommitCursorAsync("job", 16, ct);
        Assert.Equal(new Dictionary<string, long> { ["etl"] = 10, ["job"] = 16 }, (await client.GetStatisticsAsync(ct)).Cursors);
    }

    // What the files hold and the reply says agree on every field both have; every segment but the
    // last is sealed, and the last one is not (false), or the server cannot know (null).
    private static void AssertSameSegments(IReadOnlyList<SegmentSummary> files, IReadOnlyList<WalSegment> reply, bool? lastSealed)
    {
        Assert.Equal(
            files.Select(f => (f.Name, f.FirstLsn, f.LastLsn, f.Records, f.SegmentSize, f.CreatedAt)),
            reply.Select(s => (s.Name, s.FirstLsn, s.LastLsn, s.Records, s.SegmentSize, s.CreatedAt)));
        Assert.All(files.SkipLast(1), f => Assert.True(f.IsSealed));
        Assert.False(files[^1].IsSealed);
        Assert.Equal([.. Enumerable.Repeat<bool?>(true, reply.Count - 1), lastSealed], reply.Select(s => s.IsSealed));
    }

    private static List<(string, long, long, long, bool?, DateTimeOffset?)> Describe(IEnumerable<WalSegment> segments) =>
        [.. segments.Select(s => (s.Name, s.FirstLsn, s.LastLsn, s.SegmentSize, s.IsSealed, s.CreatedAt))];

    private static byte[] Record(int lsn) => System.Text.Encoding.UTF8.GetBytes($"record {lsn} " + new string('s', 900));

    private static async Task AppendAsync(Wal wal, int from, int to, CancellationToken ct)
    {
        for (var lsn = from; lsn <= to; lsn++)
        {
            Assert.Equal(lsn, await wal.AppendAsync(Record(lsn), ct));
        }
    }

    private WalOptions Options()
    {
        var options = _log.Options();
        options.SegmentSize = SegmentSize;
        return options;
    }
}
