using System.Buffers.Binary;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Storage;

public sealed class SharedWatermarksTests
{
    private static readonly LogId Log = LogId.NewId();

    [Fact]
    public void Create_NewFile_WritesEveryByteWithNoHole()
    {
        using var dir = new TestDirectory();
        using var mirror = SharedWatermarks.Create(dir.Path, Log, 42);

        var path = Path.Combine(dir.Path, WatermarkMirror.FileName);
        Assert.Equal(WatermarkMirror.Create(Log, 42, 42), File.ReadAllBytes(path));
        Assert.True(SmallFileSystem.AllocatedBytes(path) >= WatermarkMirror.Size, "the mirror must be allocated, not sparse");
    }

    [Fact]
    public void Create_OverASparseFile_AllocatesIt()
    {
        using var dir = new TestDirectory();
        var path = Path.Combine(dir.Path, WatermarkMirror.FileName);
        using (var sparse = new FileStream(path, FileMode.CreateNew))
        {
            sparse.SetLength(WatermarkMirror.Size);
        }

        Assert.Equal(0, SmallFileSystem.AllocatedBytes(path));
        using var mirror = SharedWatermarks.Create(dir.Path, Log, 7);

        Assert.True(SmallFileSystem.AllocatedBytes(path) >= WatermarkMirror.Size, "the hole must be filled with real bytes");
        Assert.True(WatermarkMirror.Matches(File.ReadAllBytes(path), Log));
    }

    [Fact]
    public void WrittenAndDurable_StoreTheWords_AReaderMappingSeesThem()
    {
        using var dir = new TestDirectory();
        using var mirror = SharedWatermarks.Create(dir.Path, Log, 0);
        using var reader = MappedFile.Open(Path.Combine(dir.Path, WatermarkMirror.FileName));

        mirror.Written(10);
        Assert.Equal(10, Word(reader, WatermarkMirror.WrittenOffset));
        Assert.Equal(0, Word(reader, WatermarkMirror.DurableOffset));
        mirror.Durable(10);
        Assert.Equal(10, Word(reader, WatermarkMirror.DurableOffset));
        Assert.Equal(1, Word(reader, WatermarkMirror.OpenOffset));
        mirror.Closed();
        Assert.Equal(0, Word(reader, WatermarkMirror.OpenOffset));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(WatermarkMirror.Size - 1)]
    public void Durable_FileShrunk_ThrowsAndWritesNothing(int length)
    {
        using var dir = new TestDirectory();
        var path = Path.Combine(dir.Path, WatermarkMirror.FileName);
        using var mirror = SharedWatermarks.Create(dir.Path, Log, 0);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.SetLength(length);
        }

        var error = Assert.Throws<IOException>(() => mirror.Durable(3));

        Assert.Contains($"shrunk to {length} bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(length, new FileInfo(path).Length);
        Assert.Throws<IOException>(mirror.Closed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Durable_FileDeletedOrReplaced_Throws(bool replaced)
    {
        using var dir = new TestDirectory();
        var path = Path.Combine(dir.Path, WatermarkMirror.FileName);
        using var mirror = SharedWatermarks.Create(dir.Path, Log, 0);
        if (replaced)
        {
            var other = Path.Combine(dir.Path, "other");
            File.WriteAllBytes(other, WatermarkMirror.Create(Log, 0, 0));
            File.Move(other, path, overwrite: true);
        }
        else
        {
            File.Delete(path);
        }

        var error = Assert.Throws<IOException>(() => mirror.Durable(3));

        Assert.Contains("deleted or replaced", error.Message, StringComparison.Ordinal);
    }

    private static long Word(MappedFile file, int offset) => BinaryPrimitives.ReadInt64LittleEndian(file.Bytes.Span[offset..]);
}
