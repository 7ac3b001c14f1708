using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Inspection;

/// <summary>The public inspection API, on logs written through <see cref="Wal"/> directly.</summary>
public sealed class LogInspectorTests : IDisposable
{
    private readonly TestDirectory _root = new();
    private readonly string _dir;

    public LogInspectorTests()
    {
        // A directory that does not exist yet: Wal.OpenAsync creates it, the inspector must not.
        _dir = Path.Combine(_root.Path, "log");
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Verify_LogWrittenByWal_IsCleanAndMatchesItsWatermarks()
    {
        long last;
        await using (var wal = await Wal.OpenAsync(new WalOptions { Directory = _dir, SegmentSize = 64 * 1024 }))
        {
            for (var i = 0; i < 200; i++)
            {
                await wal.AppendAsync(new byte[700]);
            }

            last = wal.DurableLsn;
        }

        var report = LogInspector.Verify(_dir);
        Assert.True(report.IsClean, string.Join("\n", report.Findings));
        Assert.Equal(LogCondition.Clean, report.Condition);
        Assert.Equal(200, report.Records);
        Assert.True(report.Segments.Count > 1);
        Assert.All(report.Segments.SkipLast(1), s => Assert.True(s.IsSealed));

        var stats = LogInspector.GetStats(_dir);
        Assert.Equal(1, stats.FirstLsn);
        Assert.Equal(last, stats.LastLsn);
        Assert.Equal(200, stats.Records);
        Assert.Equal(report.Segments.Count, stats.Segments.Count);
        Assert.True(stats.KnownDurableLsn >= stats.Segments[^2].LastLsn);
        Assert.NotNull(stats.LogId);

        var frames = LogInspector.Dump(_dir).ToList();
        Assert.Equal(200, frames.Count);
        Assert.All(frames, f => Assert.Equal(FrameCheck.Valid, f.Check));
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), frames.Select(f => f.Lsn));
        Assert.Equal(4096, frames[0].Offset);
        Assert.Equal(700, frames[0].PayloadLength);
        Assert.Equal(728, frames[0].FrameLength);
    }

    [Fact]
    public async Task Verify_WhileTheLogIsOpen_ReadsWithoutTheWriterLock()
    {
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = _dir, SegmentSize = 64 * 1024 });
        await wal.AppendAsync("one"u8.ToArray());
        await wal.AppendAsync("two"u8.ToArray());

        var report = LogInspector.Verify(_dir);
        Assert.True(report.IsClean);
        Assert.Equal(2, report.Records);
    }

    [Fact]
    public void Inspector_MissingDirectory_Throws()
    {
        Assert.Throws<DirectoryNotFoundException>(() => LogInspector.Verify(_dir));
        Assert.Throws<DirectoryNotFoundException>(() => LogInspector.GetStats(_dir));
        Assert.Throws<DirectoryNotFoundException>(() => LogInspector.Dump(_dir));
        Assert.False(Directory.Exists(_dir));
    }

    [Fact]
    public async Task Dump_SegmentThatIsNotInTheLog_Throws()
    {
        await using (var wal = await Wal.OpenAsync(new WalOptions { Directory = _dir, SegmentSize = 64 * 1024 }))
        {
            await wal.AppendAsync("x"u8.ToArray());
        }

        Assert.Throws<FileNotFoundException>(() => LogInspector.Dump(_dir, "00000000000000000002.wal"));
        Assert.Throws<FileNotFoundException>(() => LogInspector.Dump(_dir, "truthdb.lock"));
        Assert.Single(LogInspector.Dump(_dir, "00000000000000000001.wal"));
    }

    [Fact]
    public async Task Verify_TornTail_IsRecoverableAndLocated()
    {
        await using (var wal = await Wal.OpenAsync(new WalOptions { Directory = _dir, SegmentSize = 64 * 1024 }))
        {
            await wal.AppendAsync(new byte[100]);
            await wal.AppendAsync(new byte[100]);
        }

        // A plain copy of the segments: no clean-close note or watermark mirror proves LSN 2 durable.
        File.Delete(Path.Combine(_dir, CleanClose.FileName));
        File.Delete(Path.Combine(_dir, WatermarkMirror.FileName));
        var second = LogInspector.Dump(_dir).Last();
        using (var file = File.OpenHandle(Path.Combine(_dir, second.Segment), FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.Write(file, "torn"u8, second.Offset + 50);
        }

        var report = LogInspector.Verify(_dir);
        var finding = Assert.Single(report.Findings);
        Assert.Equal(LogCondition.TornTail, finding.Condition);
        Assert.Equal(second.Offset, finding.Offset);
        Assert.Equal(2, finding.Lsn);
        Assert.True(finding.Recoverable);
        Assert.True(report.IsRecoverable);
        Assert.Equal(1, report.Records);
    }
}
