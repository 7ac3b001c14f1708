using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace TruthDb.Dataflow.Storage;

/// <summary>
/// A read-only <see cref="MemoryMappedFile"/> view exposed as <see cref="ReadOnlyMemory{T}"/>, so
/// readers hand out payloads that point straight into the page cache (zero-copy).
/// </summary>
internal sealed unsafe class MappedFile : MemoryManager<byte>, IMappedFile
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;
    private readonly int _length;
    private int _disposed;

    private MappedFile(MemoryMappedFile file, MemoryMappedViewAccessor view, int length)
    {
        _file = file;
        _view = view;
        _length = length;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _pointer = pointer + view.PointerOffset;
    }

    /// <inheritdoc />
    public ReadOnlyMemory<byte> Bytes => CreateMemory(_length);

    /// <summary>Maps <paramref name="path"/> read-only; the file may be written, renamed or deleted meanwhile.</summary>
    public static MappedFile Open(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var length = stream.Length;
        if (length > int.MaxValue)
        {
            throw new IOException($"'{path}' is {length} bytes long; a mapping is limited to {int.MaxValue} bytes.");
        }

        var file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        try
        {
            var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            return new MappedFile(file, view, (int)length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>Throws once the mapping is released, so a payload kept past its reader fails loudly instead of reading unmapped memory.</remarks>
    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return new(_pointer, _length);
    }

    /// <inheritdoc />
    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

    /// <inheritdoc />
    public override void Unpin()
    {
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }
}
