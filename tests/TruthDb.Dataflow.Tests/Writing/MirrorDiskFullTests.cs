using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Writing;

/// <summary>
/// The watermark mirror on a real file system that is full (a small tmpfs): the writer process lives,
/// appends go on or are refused as "log full", the mirror is reported missing, and nothing
/// acknowledged is lost once space is freed and the log reopened. Segments are preallocated, so the
/// space left decides which allocation hits ENOSPC first.
/// </summary>
public sealed class MirrorDiskFullTests
{
    private const long SegmentSize = WalOptions.MinSegmentSize;
    private const long FileSystemSize = 4 * 1024 * 1024;
    private const int MirrorUnavailable = 16;
    private const int MirrorStopped = 17;
    private const int LogFull = 11;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Open_NoRoomForTheMirror_OpensWithoutItAndKeepsEveryAcknowledgedRecord(bool sparseMirrorLeftBehind)
    {
        using var fileSystem = SmallFileSystem.Mount(FileSystemSize);
        var directory = Directory.CreateDirectory(Path.Combine(fileSystem.MountPoint, "log")).FullName;
        var mirror = Path.Combine(directory, WatermarkMirror.FileName);
        if (sparseMirrorLeftBehind)
        {
            // A mirror of full length with no block behind it: the first store into it needs a new page.
            using var file = new FileStream(mirror, FileMode.CreateNew);
            file.SetLength(WatermarkMirror.Size);
        }

        // Room for the first segment exactly: creating the mirror is what runs out of space.
        fileSystem.FillLeaving(SegmentSize);
        var logger = new TestLogger();
        var acked = new List<(long Lsn, byte[] Payload)>();
        await using (var wal = await Wal.OpenAsync(Options(directory, logger)))
        {
            var unavailable = Assert.Single(logger.Events(MirrorUnavailable));
            Assert.True(StorageErrors.IsDiskFull(unavailable.Exception!), $"event 16 must carry the ENOSPC error: {unavailable.Exception}");
            Assert.Contains(WatermarkMirror.FileName, unavailable.Message, StringComparison.Ordinal);

            var full = await AppendUntilFullAsync(wal, acked);
            Assert.Contains("is full", full.Message, StringComparison.Ordinal);
            Assert.True(acked.Count > 100, $"only {acked.Count} appends fitted into the first segment");
        }

        Assert.Empty(logger.Events(MirrorStopped));
        fileSystem.Free();
        await AssertReopenedLogHoldsAsync(directory, acked);
    }

    [Fact]
    public async Task Append_NoRoomForTheNextSegment_IsRefusedAsFullWhileTheMirrorKeepsWorking()
    {
        using var fileSystem = SmallFileSystem.Mount(FileSystemSize);
        var directory = Directory.CreateDirectory(Path.Combine(fileSystem.MountPoint, "log")).FullName;

        // Room for the first segment and the mirror: preparing the second segment runs out of space,
        // and from then on the file system is full while the writer publishes into the mirror.
        fileSystem.FillLeaving(SegmentSize + WatermarkMirror.Size);
        var logger = new TestLogger();
        var acked = new List<(long Lsn, byte[] Payload)>();
        await using (var wal = await Wal.OpenAsync(Options(directory, logger)))
        {
            Assert.Empty(logger.Events(MirrorUnavailable));
            var full = await AppendUntilFullAsync(wal, acked);
            Assert.True(StorageErrors.IsDiskFull(full.InnerException!), $"the refusal must carry the ENOSPC error: {full}");
            Assert.NotEmpty(logger.Events(LogFull));
            Assert.Equal(0, fileSystem.Available);

            // Space freed: the same open log takes appends again, into a new segment.
            fileSystem.Free();
            for (var i = 0; i < 200; i++)
            {
                var payload = Payloads.Make(1, i, 100);
                acked.Add((await wal.AppendAsync(payload), payload));
            }

            Assert.Equal(acked[^1].Lsn, MirroredWatermark(directory, WatermarkMirror.DurableOffset));
        }

        Assert.Empty(logger.Events(MirrorStopped));
        Assert.True(SmallFileSystem.AllocatedBytes(Path.Combine(directory, WatermarkMirror.FileName)) >= WatermarkMirror.Size, "the mirror must have no hole");
        await AssertReopenedLogHoldsAsync(directory, acked);
    }

    [Fact]
    public async Task Open_NoRoomForTheFirstSegment_FailsSayingTheDiskIsFull()
    {
        using var fileSystem = SmallFileSystem.Mount(FileSystemSize);
        var directory = Directory.CreateDirectory(Path.Combine(fileSystem.MountPoint, "log")).FullName;
        fileSystem.FillLeaving(SegmentSize - WatermarkMirror.Size);

        var error = await Assert.ThrowsAnyAsync<IOException>(async () => await Wal.OpenAsync(Options(directory, new TestLogger())));

        Assert.True(StorageErrors.IsDiskFull(error), $"the error must say the disk is full: {error}");
        Assert.Contains("No space left on device", error.Message, StringComparison.Ordinal);
        fileSystem.Free();
        await AssertReopenedLogHoldsAsync(directory, []);
    }

    private static WalOptions Options(string directory, TestLogger logger) =>
        new() { Directory = directory, SegmentSize = SegmentSize, Logger = logger };

    private static async Task<WalFullException> AppendUntilFullAsync(Wal wal, List<(long Lsn, byte[] Payload)> acked)
    {
        for (var i = 0; i < 10_000; i++)
        {
            var payload = Payloads.Make(0, i, 100);
            try
            {
                acked.Add((await wal.AppendAsync(payload), payload));
            }
            catch (WalFullException ex)
            {
                return ex;
            }
        }

        throw new InvalidOperationException("10,000 appends of 100 bytes fitted into a full file system.");
    }

    private static long MirroredWatermark(string directory, int offset)
    {
        var bytes = File.ReadAllBytes(Path.Combine(directory, WatermarkMirror.FileName));
        return BitConverter.ToInt64(bytes, offset);
    }

    private static async Task AssertReopenedLogHoldsAsync(string directory, List<(long Lsn, byte[] Payload)> acked)
    {
        var logger = new TestLogger();
        await using var wal = await Wal.OpenAsync(Options(directory, logger));
        Assert.Empty(logger.Events(MirrorUnavailable));
        var records = await wal.ReadAllAsync();
        Assert.Equal(acked.Count, records.Count);
        for (var i = 0; i < acked.Count; i++)
        {
            Assert.Equal(acked[i].Lsn, records[i].Lsn);
            Assert.True(acked[i].Payload.AsSpan().SequenceEqual(records[i].Payload), $"record {acked[i].Lsn} differs from what was acknowledged");
        }

        Assert.Equal(acked.Count + 1, await wal.AppendAsync(new byte[10]));
        Assert.Equal(wal.DurableLsn, MirroredWatermark(directory, WatermarkMirror.DurableOffset));
    }
}
