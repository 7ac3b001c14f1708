using System.Buffers.Binary;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Storage;

public sealed class SharedFileTests
{
    private static readonly LogId Log = LogId.NewId();

    [Fact]
    public void Create_NewFile_WritesEveryByteWithNoHole()
    {
        using var dir = new TestDirectory();
        using var mirror = SharedFile.Create(dir.Path, WatermarkMirror.FileName, WatermarkMirror.Create(Log, 42, 42));

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
        using var mirror = SharedFile.Create(dir.Path, WatermarkMirror.FileName, WatermarkMirror.Create(Log, 7, 7));

        Assert.True(SmallFileSystem.AllocatedBytes(path) >= WatermarkMirror.Size, "the hole must be filled with real bytes");
        Assert.True(WatermarkMirror.Matches(File.ReadAllBytes(path), Log));
    }

    [Fact]
    public void Store_Words_AReaderMappingSeesThem()
    {
        using var dir = new TestDirectory();
        using var mirror = SharedFile.Create(dir.Path, WatermarkMirror.FileName, WatermarkMirror.Create(Log, 0, 0));
        using var reader = MappedFile.Open(Path.Combine(dir.Path, WatermarkMirror.FileName));

        mirror.Store(WatermarkMirror.WrittenOffset, 10);
        Assert.Equal(10, Word(reader, WatermarkMirror.WrittenOffset));
        Assert.Equal(0, Word(reader, WatermarkMirror.DurableOffset));
        mirror.Store(WatermarkMirror.DurableOffset, 10);
        Assert.Equal(10, Word(reader, WatermarkMirror.DurableOffset));
        Assert.Equal(1, Word(reader, WatermarkMirror.OpenOffset));
        mirror.Store(WatermarkMirror.OpenOffset, 0);
        Assert.Equal(0, Word(reader, WatermarkMirror.OpenOffset));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(WatermarkMirror.Size - 1)]
    public void CheckIntact_FileShrunk_ThrowsAndWritesNothing(int length)
    {
        using var dir = new TestDirectory();
        var path = Path.Combine(dir.Path, WatermarkMirror.FileName);
        using var mirror = SharedFile.Create(dir.Path, WatermarkMirror.FileName, WatermarkMirror.Create(Log, 0, 0));
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.SetLength(length);
        }

        var error = Assert.Throws<IOException>(mirror.CheckIntact);

        Assert.Contains($"shrunk to {length} bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(length, new FileInfo(path).Length);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CheckIntact_FileDeletedOrReplaced_Throws(bool replaced)
    {
        using var dir = new TestDirectory();
        var path = Path.Combine(dir.Path, WatermarkMirror.FileName);
        using var mirror = SharedFile.Create(dir.Path, WatermarkMirror.FileName, WatermarkMirror.Create(Log, 0, 0));
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

        var error = Assert.Throws<IOException>(mirror.CheckIntact);

        Assert.Contains("deleted or replaced", error.Message, StringComparison.Ordinal);
    }

    private static long Word(MappedFile file, int offset) => BinaryPrimitives.ReadInt64LittleEndian(file.Bytes.Span[offset..]);
}
