using System.IO.MemoryMappedFiles;
using TruthDb.Dataflow.Format;

namespace TruthDb.Dataflow.Storage;

/// <summary>
/// The writer's side of <see cref="WatermarkMirror"/>: the file mapped read-write (shared), updated
/// with two atomic stores per publish — no system call on the write path.
/// </summary>
internal sealed unsafe class SharedWatermarks : IWatermarkMirror
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;

    private SharedWatermarks(MemoryMappedFile file, MemoryMappedViewAccessor view)
    {
        _file = file;
        _view = view;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _pointer = pointer + view.PointerOffset;
    }

    /// <summary>Creates (or replaces) the mirror of <paramref name="logId"/> in <paramref name="directory"/>.</summary>
    public static SharedWatermarks Create(string directory, LogId logId, long lastLsn)
    {
        var path = Path.Combine(directory, WatermarkMirror.FileName);

        // Rewritten in place, never truncated: a reader in another process may have the file mapped,
        // and a mapped page beyond a (momentarily) shorter file faults with SIGBUS in that reader.
        using (var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
        {
            RandomAccess.Write(handle, WatermarkMirror.Create(logId, lastLsn, lastLsn), 0);
            if (RandomAccess.GetLength(handle) != WatermarkMirror.Size)
            {
                RandomAccess.SetLength(handle, WatermarkMirror.Size);
            }
        }

        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, WatermarkMirror.Size, MemoryMappedFileAccess.ReadWrite);
        try
        {
            return new SharedWatermarks(file, file.CreateViewAccessor(0, WatermarkMirror.Size, MemoryMappedFileAccess.ReadWrite));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Mirrors the written watermark.</summary>
    public void Written(long lsn) => Volatile.Write(ref *(long*)(_pointer + WatermarkMirror.WrittenOffset), lsn);

    /// <summary>Mirrors the durable watermark (after the written one).</summary>
    public void Durable(long lsn) => Volatile.Write(ref *(long*)(_pointer + WatermarkMirror.DurableOffset), lsn);

    /// <summary>Marks the log closed and unmaps.</summary>
    public void Dispose()
    {
        Volatile.Write(ref *(long*)(_pointer + WatermarkMirror.OpenOffset), 0);
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
