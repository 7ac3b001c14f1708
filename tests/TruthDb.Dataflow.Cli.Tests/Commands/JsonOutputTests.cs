using System.Text.Json;
using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

/// <summary><c>--json</c> on <c>stats</c> and <c>dump</c>, and <c>dump --payload</c>: the documented shapes.</summary>
public sealed class JsonOutputTests : IDisposable
{
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Stats_Json_OneObjectWithWatermarksSegmentsAndCursors()
    {
        await _log.AppendAsync(150);
        await Truthdb.RunAsync(["read", "--dir", _log.Dir, "--cursor", "c", "--commit", "--to", "40"], [], Timeouts.Token());

        var result = await Truthdb.RunAsync(["stats", "--dir", _log.Dir, "--json"], [], Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Single(result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var stats = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal("directory", stats.GetProperty("source").GetString());
        Assert.Equal(Path.GetFullPath(_log.Dir), stats.GetProperty("directory").GetString());
        Assert.Matches("^[0-9a-f]{32}$", stats.GetProperty("logId").GetString());
        Assert.Equal(150, stats.GetProperty("records").GetInt64());
        Assert.Equal(1, stats.GetProperty("firstLsn").GetInt64());
        Assert.Equal(150, stats.GetProperty("lastLsn").GetInt64());
        // The append closed the log cleanly: its clean-close note proves every record durable.
        Assert.Equal(150, stats.GetProperty("provenDurableLsn").GetInt64());
        Assert.Contains("clean-close note", stats.GetProperty("provenDurableBy").GetString(), StringComparison.Ordinal);
        var segments = stats.GetProperty("segments");
        Assert.Equal(_log.Segments().Length, segments.GetArrayLength());
        Assert.Equal(segments.GetArrayLength(), stats.GetProperty("segmentCount").GetInt32());
        Assert.Equal("00000000000000000001.wal", segments[0].GetProperty("name").GetString());
        Assert.True(segments[0].GetProperty("sealed").GetBoolean());
        Assert.False(segments[segments.GetArrayLength() - 1].GetProperty("sealed").GetBoolean());
        var cursor = Assert.Single(stats.GetProperty("cursors").EnumerateArray());
        Assert.Equal("c", cursor.GetProperty("name").GetString());
        Assert.Equal(40, cursor.GetProperty("committedLsn").GetInt64());

        var text = await Truthdb.RunAsync(["stats", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.Contains("log id:            " + stats.GetProperty("logId").GetString(), text.Stdout);
        Assert.Contains("150 (every record; proven by the clean-close note", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dump_JsonWithTextPayload_OneObjectPerFrameThenASummary()
    {
        var append = await Truthdb.RunAsync(["append", "--dir", _log.Dir], "hello\nwörld\n", Timeouts.Token());
        Assert.Equal(0, append.ExitCode);

        var result = await Truthdb.RunAsync(["dump", "--dir", _log.Dir, "--json", "--payload", "text"], [], Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, lines.Count);
        Assert.Equal("frame", lines[0].GetProperty("kind").GetString());
        Assert.Equal(1, lines[0].GetProperty("lsn").GetInt64());
        Assert.Equal("00000000000000000001.wal", lines[0].GetProperty("segment").GetString());
        Assert.Equal(4096, lines[0].GetProperty("offset").GetInt64());
        Assert.Equal(5, lines[0].GetProperty("payloadLength").GetInt64());
        Assert.Equal("ok", lines[0].GetProperty("check").GetString());
        Assert.Equal("hello", lines[0].GetProperty("text").GetString());
        Assert.Equal("aGVsbG8=", lines[0].GetProperty("base64").GetString());
        Assert.Equal("wörld", lines[1].GetProperty("text").GetString());
        Assert.Equal("summary", lines[2].GetProperty("kind").GetString());
        Assert.Equal(2, lines[2].GetProperty("frames").GetInt64());
        Assert.Equal(0, lines[2].GetProperty("notReadable").GetInt64());
    }

    [Fact]
    public async Task Dump_Payload_PrintsHexOrEscapedTextInALastColumn()
    {
        await Truthdb.RunAsync(["append", "--dir", _log.Dir], "a\tb\\c\n", Timeouts.Token());

        var hex = await Truthdb.RunAsync(["dump", "--dir", _log.Dir, "--payload", "hex"], [], Timeouts.Token());
        Assert.True(hex.ExitCode == 0, hex.ToString());
        Assert.EndsWith("ok  6109625c63", hex.Stdout.Split('\n')[1], StringComparison.Ordinal);

        var text = await Truthdb.RunAsync(["dump", "--dir", _log.Dir, "--payload", "text"], [], Timeouts.Token());
        Assert.EndsWith("ok  a\\tb\\\\c", text.Stdout.Split('\n')[1], StringComparison.Ordinal);

        var bad = await Truthdb.RunAsync(["dump", "--dir", _log.Dir, "--payload", "base32"], [], Timeouts.Token());
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("base32", bad.Stderr);
    }

    [Fact]
    public async Task Dump_DamagedFrame_JsonNamesTheCheckAndStderrPointsToVerify()
    {
        await _log.AppendAsync(10);
        var victim = _log.Frame(5);
        _log.FlipBit(victim.Segment, victim.Offset + 30);

        var result = await Truthdb.RunAsync(["dump", "--dir", _log.Dir, "--json", "--payload", "hex"], [], Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var fifth = lines.Single(l => l.GetProperty("kind").GetString() == "frame" && l.GetProperty("lsn").GetInt64() == 5);
        Assert.Equal("checksumMismatch", fifth.GetProperty("check").GetString());
        Assert.Equal(JsonValueKind.Null, fifth.GetProperty("hex").ValueKind);
        Assert.Equal(JsonValueKind.String, lines[0].GetProperty("hex").ValueKind);
        Assert.Equal(6, lines[^1].GetProperty("notReadable").GetInt64());
        Assert.Contains("truthdb verify", result.Stderr);
        Assert.DoesNotContain("ChecksumMismatch", result.Stdout + result.Stderr);
    }
}
