using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Storage;

/// <summary>
/// Reads past the page cache (<see cref="IStorageFile.TryReadDevice"/>, O_DIRECT) on the real file
/// system: unaligned ranges, dirty pages (written back by the read first), the end of the file, and a
/// file renamed while open. The test directory is on a file system with direct IO (ext4 on the test
/// machines): a refusal fails the test.
/// </summary>
public sealed class DeviceReadTests
{
    [Fact]
    public void TryReadDevice_UnalignedRangeOfDirtyPages_ReadsWhatWasWritten()
    {
        using var dir = new TestDirectory();
        var storage = new FileSystemStorage(dir.Path);
        var bytes = new byte[3 * 4096 + 777];
        new Random(5).NextBytes(bytes);
        using var file = storage.Create("data.bin");
        file.Write(100, bytes);

        var read = new byte[5000];
        Assert.True(file.TryReadDevice(1234, read, out var count), "the test directory's file system refused a direct read");
        Assert.Equal(read.Length, count);
        Assert.Equal(bytes.AsSpan(1234 - 100, read.Length).ToArray(), read);
    }

    [Fact]
    public void TryReadDevice_PastTheEnd_ReadsWhatThereIs()
    {
        using var dir = new TestDirectory();
        var storage = new FileSystemStorage(dir.Path);
        using var file = storage.Create("short.bin");
        file.Write(0, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 });

        var read = new byte[8192];
        Assert.True(file.TryReadDevice(6, read, out var count));
        Assert.Equal(4, count);
        Assert.Equal(new byte[] { 7, 8, 9, 10 }, read[..4]);
        Assert.True(file.TryReadDevice(20, read, out count));
        Assert.Equal(0, count);
    }

    [Fact]
    public void TryReadDevice_FileRenamedWhileOpen_ReadsTheOpenFile()
    {
        using var dir = new TestDirectory();
        var storage = new FileSystemStorage(dir.Path);
        using var file = storage.Create("before.tmp");
        file.Write(0, "segment"u8);
        storage.Rename("before.tmp", "after.wal");
        File.WriteAllText(Path.Combine(dir.Path, "before.tmp"), "another file");

        var read = new byte[7];
        Assert.True(file.TryReadDevice(0, read, out var count));
        Assert.Equal(7, count);
        Assert.Equal("segment"u8.ToArray(), read);
    }
}
