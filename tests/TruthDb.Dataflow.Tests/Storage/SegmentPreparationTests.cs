using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using TruthDb.Dataflow.LogState;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Storage;

/// <summary>
/// Segment preparation on the real file system: what a prepared file holds, and which of its pages
/// the page cache holds when the writer gets it (mincore(2) on a mapping of the file).
/// </summary>
public sealed class SegmentPreparationTests
{
    private const long Size = 8L * 1024 * 1024;
    private const int PageSize = 4096;

    [Fact]
    public void Prepare_WithoutZeroFill_ReservesTheFileAndBringsEveryPageIntoTheCache()
    {
        using var dir = new TestDirectory();
        var storage = new FileSystemStorage(dir.Path);

        // The control: a file only reserved and synced has none of its pages cached.
        using (var reserved = storage.Create("reserved.tmp"))
        {
            reserved.Allocate(Size);
            reserved.FullSync();
        }

        Assert.Equal(0, ResidentPages(Path.Combine(dir.Path, "reserved.tmp")));

        using var prepared = SegmentFiles.Prepare(storage, Size, 1, zeroFill: false);

        var path = Path.Combine(dir.Path, prepared.Name);
        Assert.Equal(Size / PageSize, ResidentPages(path));
        Assert.Equal(Size, prepared.Length);
        Assert.True(SmallFileSystem.AllocatedBytes(path) >= Size, "the segment must be reserved, not sparse");
        Assert.True(File.ReadAllBytes(path).AsSpan().IndexOfAnyExcept((byte)0) < 0, "a prepared segment reads as zeros");
    }

    [Fact]
    public void Prepare_WithoutZeroFill_StoppedAtOnce_ReturnsTheReservedFileWithoutWarmingIt()
    {
        using var dir = new TestDirectory();
        var storage = new FileSystemStorage(dir.Path);

        using var prepared = SegmentFiles.Prepare(storage, Size, 1, zeroFill: false, stop: static () => true);

        var path = Path.Combine(dir.Path, prepared.Name);
        Assert.Equal(0, ResidentPages(path));
        Assert.True(SmallFileSystem.AllocatedBytes(path) >= Size, "the segment must be reserved, not sparse");
    }

    // Pages of the file in the page cache: mincore over a read-only mapping of all of it (mapping
    // touches no page; for a file the caller owns, mincore reports the page cache's pages).
    private static long ResidentPages(string path)
    {
        using var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        var length = new FileInfo(path).Length;
        var vector = new byte[(length + PageSize - 1) / PageSize];
        var address = view.SafeMemoryMappedViewHandle.DangerousGetHandle() + (nint)view.PointerOffset;
        Assert.True(MinCore(address, (nuint)length, vector) == 0, $"mincore failed: errno {Marshal.GetLastPInvokeError()}");
        return vector.Count(static b => (b & 1) != 0);
    }

    [DllImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static extern int MinCore(nint address, nuint length, byte[] vector);
}
