using System.Text;
using System.Text.Json;
using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

/// <summary>
/// <c>stats --socket</c> shows the segments and cursors as <c>stats --dir</c> does, from what the server
/// reports: the same table and JSON, with what only the files tell (a file's length, the bytes used,
/// and on a read-only server the last segment's seal) shown as not known.
/// </summary>
public sealed class StatsSocketTests : IDisposable
{
    private const int UsedColumn = 5;
    private const int SealedColumn = 6;
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Stats_ThroughSocketAfterRollsAndACursorCommit_ShowsTheSegmentsAndCursorsOfTheDirectory()
    {
        var ct = Timeouts.Token();
        await using var server = await ServedLog.StartAsync(_log, ["--segment-size", "128KiB"]);
        var append = await Truthdb.RunAsync(["append", "--socket", server.Socket], LogDirectory.Lines(300), ct);
        Assert.True(append.ExitCode == 0, append.ToString());
        var read = await Truthdb.RunAsync(["read", "--socket", server.Socket, "--cursor", "job", "--commit", "--to", "120"], [], ct);
        Assert.True(read.ExitCode == 0, read.ToString());

        var served = await Truthdb.RunAsync(["stats", "--socket", server.Socket], [], ct);
        var direct = await Truthdb.RunAsync(["stats", "--dir", _log.Dir], [], ct);

        Assert.True(served.ExitCode == 0, served.ToString());
        Assert.Equal(Lines(direct.Stdout, "cursor"), Lines(served.Stdout, "cursor"));
        Assert.Contains("  cursor job: committed LSN 120\n", served.Stdout, StringComparison.Ordinal);
        var servedRows = Rows(served.Stdout);
        var directRows = Rows(direct.Stdout);
        Assert.True(servedRows.Count >= 3, served.Stdout);
        Assert.Contains($"segments:          {servedRows.Count}\n", served.Stdout, StringComparison.Ordinal);
        Assert.All(servedRows, row => Assert.Equal("?", row[UsedColumn]));
        Assert.Equal(directRows.Select(WithoutUsed), servedRows.Select(WithoutUsed));
        Assert.Equal([.. Enumerable.Repeat("yes", servedRows.Count - 1), "no"], servedRows.Select(row => row[SealedColumn]));

        var servedJson = await Truthdb.RunAsync(["stats", "--socket", server.Socket, "--json"], [], ct);
        var directJson = await Truthdb.RunAsync(["stats", "--dir", _log.Dir, "--json"], [], ct);

        Assert.True(servedJson.ExitCode == 0, servedJson.ToString());
        Assert.Single(servedJson.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var s = JsonDocument.Parse(servedJson.Stdout).RootElement;
        var d = JsonDocument.Parse(directJson.Stdout).RootElement;
        Assert.Equal(d.GetProperty("segmentCount").GetInt32(), s.GetProperty("segmentCount").GetInt32());
        Assert.Equal(d.GetProperty("cursors").GetRawText(), s.GetProperty("cursors").GetRawText());
        var segments = s.GetProperty("segments").EnumerateArray().ToList();
        var files = d.GetProperty("segments").EnumerateArray().ToList();
        Assert.Equal(files.Count, segments.Count);
        for (var i = 0; i < segments.Count; i++)
        {
            foreach (var field in new[] { "name", "firstLsn", "lastLsn", "records", "segmentSize", "sealed", "createdAt" })
            {
                Assert.Equal(files[i].GetProperty(field).GetRawText(), segments[i].GetProperty(field).GetRawText());
            }

            Assert.Equal(JsonValueKind.Null, segments[i].GetProperty("fileLength").ValueKind);
            Assert.Equal(JsonValueKind.Null, segments[i].GetProperty("recordsEnd").ValueKind);
        }

        Assert.Equal(300, segments[^1].GetProperty("lastLsn").GetInt64());
    }

    [Fact]
    public async Task Stats_ThroughReadOnlySocket_ShowsSegmentsAndCursorsAndTheLastSealAsNotKnown()
    {
        var ct = Timeouts.Token();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = _log.Dir, SegmentSize = 64 * 1024 });
        for (var lsn = 1; lsn <= 150; lsn++)
        {
            await wal.AppendAsync(Encoding.UTF8.GetBytes($"record {lsn} " + new string('r', 900)), ct);
        }

        await wal.CommitCursorAsync("etl", 75, ct);
        await using var server = await ServedLog.StartAsync(_log, ["--read-only"]);

        var served = await Truthdb.RunAsync(["stats", "--socket", server.Socket], [], ct);
        var direct = await Truthdb.RunAsync(["stats", "--dir", _log.Dir], [], ct);

        Assert.True(served.ExitCode == 0, served.ToString());
        Assert.Contains("read-only: it writes nothing", served.Stdout, StringComparison.Ordinal);
        Assert.Contains("  cursor etl: committed LSN 75\n", served.Stdout, StringComparison.Ordinal);
        var servedRows = Rows(served.Stdout);
        var directRows = Rows(direct.Stdout);
        Assert.True(servedRows.Count >= 3, served.Stdout);
        Assert.Equal([.. Enumerable.Repeat("yes", servedRows.Count - 1), "?"], servedRows.Select(row => row[SealedColumn]));
        Assert.Equal(
            directRows.Select(row => WithoutUsed(row).Where((_, i) => i != SealedColumn - 1)),
            servedRows.Select(row => WithoutUsed(row).Where((_, i) => i != SealedColumn - 1)));

        var json = JsonDocument.Parse((await Truthdb.RunAsync(["stats", "--socket", server.Socket, "--json"], [], ct)).Stdout).RootElement;
        var segments = json.GetProperty("segments").EnumerateArray().ToList();
        Assert.True(json.GetProperty("readOnly").GetBoolean());
        Assert.Equal(JsonValueKind.Null, segments[^1].GetProperty("sealed").ValueKind);
        Assert.All(segments.SkipLast(1), segment => Assert.True(segment.GetProperty("sealed").GetBoolean()));
        Assert.Equal(150, segments[^1].GetProperty("lastLsn").GetInt64());
        var cursor = Assert.Single(json.GetProperty("cursors").EnumerateArray());
        Assert.Equal(("etl", 75L), (cursor.GetProperty("name").GetString(), cursor.GetProperty("committedLsn").GetInt64()));
    }

    [Fact]
    public async Task Stats_ThroughSocketWithACursorFileDamaged_PrintsTheServersErrorNamingTheFileAndExitsOne()
    {
        var ct = Timeouts.Token();
        await using var server = await ServedLog.StartAsync(_log);
        var append = await Truthdb.RunAsync(["append", "--socket", server.Socket], LogDirectory.Lines(20), ct);
        Assert.True(append.ExitCode == 0, append.ToString());
        var read = await Truthdb.RunAsync(["read", "--socket", server.Socket, "--cursor", "job", "--commit", "--to", "10"], [], ct);
        Assert.True(read.ExitCode == 0, read.ToString());
        var before = await Truthdb.RunAsync(["stats", "--socket", server.Socket], [], ct);
        Assert.Contains("  cursor job: committed LSN 10\n", before.Stdout, StringComparison.Ordinal);

        // Garbage over the cursor file while the server has the log open.
        var file = Path.Combine(_log.Dir, "cursor-job.cur");
        await File.WriteAllBytesAsync(file, Enumerable.Repeat((byte)0xA5, (int)new FileInfo(file).Length).ToArray(), ct);

        foreach (var args in new[] { new[] { "stats", "--socket", server.Socket }, ["stats", "--socket", server.Socket, "--json"] })
        {
            var stats = await Truthdb.RunAsync(args, [], ct);
            Assert.True(stats.ExitCode == 1, stats.ToString());
            Assert.Equal(string.Empty, stats.Stdout);
            Assert.StartsWith("truthdb: ", stats.Stderr, StringComparison.Ordinal);
            Assert.Contains("'cursor-job.cur'", stats.Stderr, StringComparison.Ordinal);
            Assert.Contains("file of cursor 'job'", stats.Stderr, StringComparison.Ordinal);
        }
    }

    // The lines of the output that start with the text given (after indentation).
    private static List<string> Lines(string output, string start) =>
        [.. output.Split('\n').Where(line => line.TrimStart().StartsWith(start, StringComparison.Ordinal))];

    // The segment table's rows (ASCII borders: output is redirected), as trimmed cells.
    private static List<string[]> Rows(string output) =>
        [.. output.Split('\n')
            .Where(line => line.StartsWith("| 0", StringComparison.Ordinal))
            .Select(line => line.Trim('|').Split('|').Select(cell => cell.Trim()).ToArray())];

    private static string[] WithoutUsed(string[] row) => [.. row.Where((_, i) => i != UsedColumn)];
}
