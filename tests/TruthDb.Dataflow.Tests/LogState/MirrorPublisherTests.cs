using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.LogState;

public sealed class MirrorPublisherTests
{
    private const int MirrorUnavailable = 16;
    private const int MirrorStopped = 17;

    [Fact]
    public async Task Open_MirrorCannotBeCreated_OpensWithoutItSaysSoOnceAndAppends()
    {
        using var dir = new TestDirectory();

        // A directory where the mirror file belongs: it cannot be opened as a file.
        Directory.CreateDirectory(Path.Combine(dir.Path, WatermarkMirror.FileName));
        var logger = new TestLogger();
        await using (var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = WalOptions.MinSegmentSize, Logger = logger }))
        {
            for (var i = 1; i <= 100; i++)
            {
                Assert.Equal(i, await wal.AppendAsync(Payloads.Make(0, i, 50)));
            }

            Assert.Equal(100, wal.DurableLsn);
        }

        var unavailable = Assert.Single(logger.Events(MirrorUnavailable));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, unavailable.Level);
        Assert.Equal(dir.Path, unavailable.Properties["Directory"]);
        Assert.NotNull(unavailable.Exception);
        Assert.Empty(logger.Events(MirrorStopped));
        Assert.True(Directory.Exists(Path.Combine(dir.Path, WatermarkMirror.FileName)), "what stood in the mirror's place must be left alone");
    }

    [Fact]
    public async Task Dispose_MirrorDeletedWhileOpen_SaysSoOnceAndClosesCleanly()
    {
        using var dir = new TestDirectory();
        var logger = new TestLogger();
        var options = new WalOptions { Directory = dir.Path, SegmentSize = WalOptions.MinSegmentSize, Durability = Durability.Written, Logger = logger };
        await using (var wal = await Wal.OpenAsync(options))
        {
            Assert.Equal(1, await wal.AppendAsync(new byte[10]));
            File.Delete(Path.Combine(dir.Path, WatermarkMirror.FileName));
            Assert.Equal(2, await wal.AppendAsync(new byte[10]));
        }

        var stopped = Assert.Single(logger.Events(MirrorStopped));
        Assert.Contains("deleted or replaced", stopped.Exception!.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir.Path, WatermarkMirror.FileName)), "a deleted mirror must not come back before the log is opened again");

        await using var reopened = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = WalOptions.MinSegmentSize });
        Assert.Equal(2, reopened.DurableLsn);
        var mirror = File.ReadAllBytes(Path.Combine(dir.Path, WatermarkMirror.FileName));
        Assert.Equal(WatermarkMirror.Size, mirror.Length);
        Assert.Equal(reopened.LogId, LogId.Read(mirror.AsSpan(8)).ToGuid());
    }
}
