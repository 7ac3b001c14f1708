using System.Text.Json;
using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

/// <summary><c>truthdb verify</c> against real directories, damaged by writing bytes into segment files.</summary>
public sealed class VerifyTests : IDisposable
{
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Verify_CleanMultiSegmentLog_ExitsZero()
    {
        await _log.AppendAsync(150);
        Assert.True(_log.Segments().Length >= 3);

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("verify: clean", result.Stdout);
        Assert.Contains("150 record(s)", result.Stdout);
        Assert.Contains("durability: LSNs 1 to 150 proven durable by the clean-close note (truthdb.clean)", result.Stdout);
    }

    [Fact]
    public async Task Verify_TornLastFrame_ReportsTornTailAndOpenRepairsIt()
    {
        await _log.AppendAsync(10);
        Evidence.RewindTo(_log.Dir, 9);
        var last = _log.Frame(10);
        _log.Write(last.Segment, last.Offset + 100, "garbage!"u8);

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains($"torn tail: segment {last.Segment}, offset {last.Offset}, LSN 10", result.Stdout);

        // Opening the log for writing (here: an append of nothing) truncates the torn tail; the log is
        // clean afterwards. (read and tail do not open it for writing: they use WalReader.)
        Assert.Equal(0, (await Truthdb.RunAsync(["append", "--dir", _log.Dir], [], Timeouts.Token())).ExitCode);
        var read = await Truthdb.RunAsync(["read", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.Equal(9, read.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(0, (await VerifyAsync()).ExitCode);
    }

    [Fact]
    public async Task Verify_LastRecordOfCleanlyClosedLogFlipped_ExitsFourNamingTheCleanCloseNote()
    {
        await _log.AppendAsync(10);
        var last = _log.Frame(10);
        _log.FlipBit(last.Segment, last.Offset + 100);

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains($"durable record damaged: segment {last.Segment}, offset {last.Offset}, LSN 10", result.Stdout);
        Assert.Contains("the clean-close note (truthdb.clean) proves every LSN up to 10 durable", result.Stdout);
        Assert.Contains("durability: LSNs 1 to 10 proven durable by the clean-close note", result.Stdout);

        // Opening refuses (and names repair), and leaves the log as it was: verify says the same again.
        var append = await Truthdb.RunAsync(["append", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.True(append.ExitCode == 1, append.ToString());
        Assert.Contains("LSN 10", append.Stderr);
        Assert.Contains("truthdb repair", append.Stderr);
        Assert.Equal(4, (await VerifyAsync()).ExitCode);
    }

    [Fact]
    public async Task Verify_Json_CleanThenDamaged_OneObjectWithFindingsAndTheSameExitCode()
    {
        await _log.AppendAsync(10);

        var clean = await Truthdb.RunAsync(["verify", "--dir", _log.Dir, "--json"], [], Timeouts.Token());
        Assert.True(clean.ExitCode == 0, clean.ToString());
        var report = JsonDocument.Parse(Assert.Single(clean.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))).RootElement;
        Assert.Equal("clean", report.GetProperty("condition").GetString());
        Assert.True(report.GetProperty("clean").GetBoolean());
        Assert.Equal(10, report.GetProperty("records").GetInt64());
        Assert.Equal(10, report.GetProperty("provenDurableLsn").GetInt64());
        Assert.Equal(0, report.GetProperty("findings").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, report.GetProperty("pendingRepair").ValueKind);

        var last = _log.Frame(10);
        _log.FlipBit(last.Segment, last.Offset + 100);
        var damaged = await Truthdb.RunAsync(["verify", "--dir", _log.Dir, "--json"], [], Timeouts.Token());

        Assert.True(damaged.ExitCode == 4, damaged.ToString());
        report = JsonDocument.Parse(damaged.Stdout).RootElement;
        Assert.Equal(4, report.GetProperty("exitCode").GetInt32());
        Assert.False(report.GetProperty("recoverable").GetBoolean());
        var finding = Assert.Single(report.GetProperty("findings").EnumerateArray());
        Assert.Equal("durable record damaged", finding.GetProperty("condition").GetString());
        Assert.Equal(last.Segment, finding.GetProperty("segment").GetString());
        Assert.Equal(last.Offset, finding.GetProperty("offset").GetInt64());
        Assert.Equal(10, finding.GetProperty("lsn").GetInt64());
        Assert.Equal(_log.Segments().Length, report.GetProperty("segments").GetArrayLength());
    }

    [Fact]
    public async Task Verify_LastRecordFlippedAfterACrash_ExitsFourNamingTheWatermarkMirror()
    {
        // A crash after the sync of LSN 10 returned: no clean-close note, the mirror says 10 was durable.
        await _log.AppendAsync(10);
        Evidence.RewindTo(_log.Dir, 10);
        var last = _log.Frame(10);
        _log.FlipBit(last.Segment, last.Offset + 8);

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains($"durable record damaged: segment {last.Segment}, offset {last.Offset}, LSN 10", result.Stdout);
        Assert.Contains("durability: LSNs 1 to 10 proven durable by the watermark mirror's durable LSN (truthdb.watermarks)", result.Stdout);
    }

    [Fact]
    public async Task Verify_LastFrameCutOff_ReportsTornTail()
    {
        // A write that reached the disk only in part: the frame's first half, zeros after it.
        await _log.AppendAsync(10);
        Evidence.RewindTo(_log.Dir, 9);
        var last = _log.Frame(10);
        var half = last.FrameLength / 2;
        _log.Write(last.Segment, last.Offset + half, new byte[last.FrameLength - half]);

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains($"torn tail: segment {last.Segment}, offset {last.Offset}, LSN 10", result.Stdout);
        Assert.Contains("9 valid record(s)", result.Stdout);
    }

    [Fact]
    public async Task Verify_SegmentFileTruncated_ReportsDamagedSegment()
    {
        await _log.AppendAsync(10);
        var segment = _log.Segments()[0];
        var last = _log.Frame(10);
        using (var file = File.OpenHandle(Path.Combine(_log.Dir, segment), FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(file, last.Offset + 100);
        }

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains($"damaged segment: segment {segment}, offset {last.Offset + 100}", result.Stdout);
        Assert.Contains("shorter than its segment size", result.Stdout);
    }

    [Fact]
    public async Task Verify_ZeroedLastFrameWithStaleBytesAfter_ReportsZeroFilledTail()
    {
        await _log.AppendAsync(10);
        Evidence.RewindTo(_log.Dir, 9);
        var last = _log.Frame(10);
        _log.Write(last.Segment, last.Offset, new byte[last.FrameLength]);
        _log.Write(last.Segment, last.Offset + 8192, "stale bytes of an unsynced page"u8);

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains($"zero-filled tail: segment {last.Segment}, offset {last.Offset}, LSN 10", result.Stdout);
    }

    [Fact]
    public async Task Verify_BitFlipBeforeLaterDurableFrames_ReportsMidLogCorruption()
    {
        // Two runs: the second run's frames record that everything of the first was durable.
        await _log.AppendAsync(5);
        await _log.AppendAsync(5, first: 6);
        var victim = _log.Frame(3);
        _log.FlipBit(victim.Segment, victim.Offset + 40);

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains($"mid-log corruption: segment {victim.Segment}, offset {victim.Offset}, LSN 3", result.Stdout);
        Assert.Contains("was written after LSN 3 was durable", result.Stdout);

        var read = await Truthdb.RunAsync(["read", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.Equal(1, read.ExitCode);
        Assert.Contains("corrupted", read.Stderr);
    }

    [Fact]
    public async Task Verify_BitFlipInSealedSegment_ReportsMidLogCorruption()
    {
        await _log.AppendAsync(150);
        var victim = _log.Frame(20);
        Assert.Equal(_log.Segments()[0], victim.Segment);
        _log.FlipBit(victim.Segment, victim.Offset + 500);

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains($"mid-log corruption: segment {victim.Segment}, offset {victim.Offset}, LSN 20", result.Stdout);
        Assert.Contains("inside a sealed segment", result.Stdout);
    }

    [Fact]
    public async Task Verify_SegmentCopiedFromAnotherLog_ReportsFrameFromAnotherLog()
    {
        using var other = new LogDirectory();
        await _log.AppendAsync(150);
        await other.AppendAsync(150);
        var segment = _log.Segments()[1];
        Assert.Equal(segment, other.Segments()[1]);
        File.Copy(Path.Combine(other.Dir, segment), Path.Combine(_log.Dir, segment), overwrite: true);

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains($"frame from another log: segment {segment}, offset 16", result.Stdout);
    }

    [Fact]
    public async Task Verify_FirstSegmentCopiedFromAnotherLog_ReportsThatSegmentAsForeign()
    {
        using var other = new LogDirectory();
        await _log.AppendAsync(150);
        await other.AppendAsync(150);
        var segments = _log.Segments();
        File.Copy(Path.Combine(other.Dir, segments[0]), Path.Combine(_log.Dir, segments[0]), overwrite: true);

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains($"frame from another log: segment {segments[0]}, offset 16", result.Stdout);
        Assert.Single(result.Stdout.Split('\n'), l => l.StartsWith("frame from another log:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Verify_FrameOfThisLogAtTheWrongPlace_ReportsOutOfSequence()
    {
        await _log.AppendAsync(150);
        var copy = _log.Frame(2);
        var target = _log.Frame(4);
        _log.Write(target.Segment, target.Offset, _log.Read(copy.Segment, copy.Offset, (int)copy.FrameLength));

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains($"out of sequence: segment {target.Segment}, offset {target.Offset}, LSN 4", result.Stdout);
    }

    [Fact]
    public async Task Verify_MissingMiddleSegment_ReportsOutOfSequence()
    {
        await _log.AppendAsync(150);
        var segments = _log.Segments();
        File.Delete(Path.Combine(_log.Dir, segments[1]));

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains($"out of sequence: segment {segments[2]}, offset 0", result.Stdout);
        Assert.Contains("a segment is missing", result.Stdout);
    }

    [Fact]
    public async Task Verify_DamagedHeader_ReportsDamagedSegment()
    {
        await _log.AppendAsync(3);
        var segment = _log.Segments()[0];
        _log.Write(segment, 0, "XXXX"u8);

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains($"damaged segment: segment {segment}, offset 0", result.Stdout);
    }

    [Fact]
    public async Task Verify_WhileAWriterHoldsTheLock_StillRuns()
    {
        await _log.AppendAsync(3);
        await using var tail = Truthdb.Start(["tail", "--dir", _log.Dir]);
        await tail.WaitForOutputAsync(o => o.Contains("3\t", StringComparison.Ordinal), Timeouts.Token());

        var result = await VerifyAsync();
        Assert.True(result.ExitCode == 0, result.ToString());
        var stats = await Truthdb.RunAsync(["stats", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.Equal(0, stats.ExitCode);
    }

    private Task<CliResult> VerifyAsync() => Truthdb.RunAsync(["verify", "--dir", _log.Dir], [], Timeouts.Token());
}
