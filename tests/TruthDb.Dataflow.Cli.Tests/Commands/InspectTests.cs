using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

/// <summary><c>truthdb dump</c>, <c>stats</c> and <c>bench</c>.</summary>
public sealed class InspectTests : IDisposable
{
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Dump_Directory_ListsEveryFrame()
    {
        await _log.AppendAsync(150);
        var result = await Truthdb.RunAsync(["dump", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("150 frame(s): 150 valid, 0 not part of the readable log", result.Stdout);
        var first = result.Stdout.Split('\n')[1];
        Assert.Matches(@"^\s+1\s+00000000000000000001\.wal\s+4096\s+1000\s+1024\s+0\s+ok$", first);
    }

    [Fact]
    public async Task Dump_OneSegment_ListsOnlyItsFrames()
    {
        await _log.AppendAsync(150);
        var second = _log.Segments()[1];
        var result = await Truthdb.RunAsync(["dump", "--dir", _log.Dir, "--segment", second], [], Timeouts.Token());
        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("00000000000000000001.wal", result.Stdout);
        Assert.Contains(second, result.Stdout);
    }

    [Fact]
    public async Task Dump_DamagedFrame_ShowsBadFrameAndFramesAfterIt()
    {
        await _log.AppendAsync(10);
        var victim = _log.Frame(5);
        _log.FlipBit(victim.Segment, victim.Offset + 30);

        var result = await Truthdb.RunAsync(["dump", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("BAD checksum", result.Stdout);
        Assert.Contains("after damage", result.Stdout);
        Assert.Contains("10 frame(s): 4 valid, 6 not part of the readable log", result.Stdout);
    }

    [Fact]
    public async Task Dump_UnknownSegment_FailsWithMessage()
    {
        await _log.AppendAsync(1);
        var result = await Truthdb.RunAsync(["dump", "--dir", _log.Dir, "--segment", "00000000000000000099.wal"], [], Timeouts.Token());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is not a segment", result.Stderr);
    }

    [Fact]
    public async Task Stats_MultiSegmentLog_ShowsSegmentsAndLsns()
    {
        await _log.AppendAsync(150);
        var segments = _log.Segments();
        var result = await Truthdb.RunAsync(["stats", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"segments:          {segments.Length}", result.Stdout);
        Assert.Contains("records:           150", result.Stdout);
        Assert.Contains("first LSN:         1", result.Stdout);
        Assert.Contains("last LSN:          150", result.Stdout);
        foreach (var segment in segments)
        {
            Assert.Contains(segment, result.Stdout);
        }
    }

    [Fact]
    public async Task Bench_Records_PrintsResultTableWithoutLiveProgress()
    {
        var result = await Truthdb.RunAsync(
            ["bench", "--dir", _log.Dir, "--records", "300", "--producers", "4", "--record-size", "100", "--segment-size", "1MiB"], [], Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("bench: 300 records", result.Stdout);
        foreach (var metric in new[] { "throughput", "latency p50", "latency p99", "records per batch", "syncs/s" })
        {
            Assert.Contains(metric, result.Stdout);
        }

        Assert.DoesNotContain("\u001b[", result.Stdout);
        var stats = await Truthdb.RunAsync(["stats", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.Contains("records:           300", stats.Stdout);
    }

    [Fact]
    public async Task Bench_Duration_RunsForAboutThatLong()
    {
        var result = await Truthdb.RunAsync(
            ["bench", "--dir", _log.Dir, "--duration", "0.5", "--producers", "2", "--durability", "written", "--segment-size", "1MiB"], [], Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Written", result.Stdout);
        var match = System.Text.RegularExpressions.Regex.Match(result.Stdout, @"bench: (\d+) records in (\d+\.\d\d) s");
        Assert.True(match.Success, result.ToString());
        Assert.True(long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0);

        // It stops taking new appends at the deadline; the last acknowledgements may come a little later.
        Assert.True(double.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) >= 0.49, result.Stdout);
    }
}
