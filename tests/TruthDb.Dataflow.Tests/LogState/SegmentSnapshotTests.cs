using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.LogState;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.LogState;

/// <summary><see cref="Wal.GetSegments"/>: the segment list as the writer publishes it, and the one seal the writer knows of besides.</summary>
public sealed class SegmentSnapshotTests
{
    [Fact]
    public async Task GetSegments_LastSegmentSealedAtOpen_SaysSoUntilTheNextOneStarts()
    {
        using var dir = new TestDirectory();
        var options = new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 };
        long sealedLast;
        await using (var wal = await Wal.OpenAsync(options))
        {
            var lsn = 0;
            while (wal.GetSegments().Count < 2)
            {
                lsn = (int)await wal.AppendAsync(Payloads.Make(0, lsn + 1, 900));
            }

            sealedLast = wal.GetSegments()[0].LastLsn;
        }

        // What a crash between sealing a segment and starting the next leaves: the sealed segment is the
        // last one, and no evidence vouches for anything after it.
        var names = Directory.GetFiles(dir.Path, "*.wal").Order(StringComparer.Ordinal).ToArray();
        File.Delete(names[1]);
        File.Delete(Path.Combine(dir.Path, CleanClose.FileName));
        File.Delete(Path.Combine(dir.Path, WatermarkMirror.FileName));

        await using (var wal = await Wal.OpenAsync(options))
        {
            var found = Assert.Single(wal.GetSegments());
            Assert.Equal((sealedLast, (bool?)true), (found.LastLsn, found.IsSealed));
            Assert.True(LogInspector.GetStats(dir.Path).Segments[0].IsSealed);

            await wal.AppendAsync(Payloads.Make(0, (int)sealedLast + 1, 900));

            var segments = wal.GetSegments();
            Assert.Equal(2, segments.Count);
            Assert.Equal((true, false), (segments[0].IsSealed, segments[1].IsSealed));
            Assert.Equal((sealedLast + 1, sealedLast + 1), (segments[1].FirstLsn, segments[1].LastLsn));
        }
    }

    [Fact]
    public void Describe_ListReadAfterTheWatermarkMoved_KeepsEveryRangeAtTheWatermark()
    {
        // The writer rolled twice between the watermark read (LSN 15) and the list read.
        SegmentInfo[] segments = [new(1, 65536, 1000), new(11, 65536, 2000), new(21, 65536, 3000), new(31, 65536, -1)];

        var described = SegmentSnapshot.Describe(segments, writtenLsn: 15, lastSealed: false);

        Assert.Equal([(1L, 10L), (11L, 15L), (21L, 20L), (31L, 30L)], described.Select(s => (s.FirstLsn, s.LastLsn)));
        Assert.Equal([10L, 5, 0, 0], described.Select(s => s.Records));
        Assert.Equal([true, true, true, (bool?)false], described.Select(s => s.IsSealed));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(2000), described[1].CreatedAt);
        Assert.Null(described[3].CreatedAt);
        Assert.Equal("00000000000000000021.wal", described[2].Name);
    }
}
