using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace TruthDb.Dataflow.Storage;

/// <summary>
/// The real <see cref="ISharedFile"/>: a small file written in full and synced when it is created,
/// then updated one aligned 8-byte word at a time with one positional write (pwrite) into the file's
/// page cache, which readers in other processes share (the writer's watermark mirror is one).
/// </summary>
/// <remarks>
/// <para>
/// Why no writable mapping: a store through a shared mapping whose page cannot be backed raises
/// SIGBUS, which .NET turns into an AccessViolationException nothing can catch: the process dies.
/// That happens on a full disk (the first store into a hole of a sparse file, or any store on a
/// copy-on-write file system) and whenever another process shrinks the file under the mapping; no
/// check before the store can rule out a truncate right after it. A pwrite reports all of these as
/// an <see cref="IOException"/> (ENOSPC, EIO), or extends a shrunk file again without harm.
/// <see cref="CheckIntact"/> notices a shrunk, deleted or replaced file (one statx call).
/// </para>
/// <para>
/// Each word is one aligned 8-byte pwrite. The kernel copies it into the shared page; readers load it
/// with one 8-byte read. No system interface promises that copy is a single store; on the x86-64
/// machine of docs/performance.md, 14 million such pwrites raced against 6 billion loads through a
/// mapping and no load saw a mix of two values.
/// </para>
/// Order of operations of <see cref="Create"/>, and what a crash at each point leaves:
/// <list type="number">
/// <item>Open (or create) the file. It is rewritten in place, never truncated: a reader in another
/// process may have it mapped, and a page beyond a shorter file faults in that reader. A crash leaves
/// an empty or old file.</item>
/// <item>Write all of its contents: real bytes, so the file has no hole and later stores need no new
/// block. ENOSPC surfaces here, as an exception (a file this call created is deleted again; an
/// existing one is left as it is).</item>
/// <item>fsync the file, then the directory when the file was created. Before that, a power loss can
/// leave the old contents, a short file or none.</item>
/// </list>
/// </remarks>
internal sealed class SharedFile : ISharedFile
{
    private readonly SafeFileHandle _handle;
    private readonly string _path;
    private readonly long _size;

    private SharedFile(SafeFileHandle handle, string path, long size)
    {
        _handle = handle;
        _path = path;
        _size = size;
    }

    /// <summary>
    /// Creates (or rewrites) the file <paramref name="name"/> in <paramref name="directory"/> with
    /// <paramref name="contents"/>, written in full and synced; throws an <see cref="IOException"/> (or
    /// <see cref="UnauthorizedAccessException"/>) when that fails.
    /// </summary>
    public static SharedFile Create(string directory, string name, ReadOnlySpan<byte> contents)
    {
        var path = Path.Combine(directory, name);
        var created = !File.Exists(path);
        var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            RandomAccess.Write(handle, contents, 0);
            if (LinuxNative.IsSupported)
            {
                LinuxNative.Sync(handle, full: true, path);
                if (created)
                {
                    LinuxNative.SyncDirectory(directory);
                }
            }
            else
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
                stream.Flush(flushToDisk: true);
            }

            return new SharedFile(handle, path, contents.Length);
        }
        catch
        {
            handle.Dispose();
            if (created)
            {
                // Leave no half-made file behind: readers find none, as when there never was one.
                File.Delete(path);
            }

            throw;
        }
    }

    /// <inheritdoc />
    public void Store(int offset, long value)
    {
        Span<byte> word = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(word, value);
        RandomAccess.Write(_handle, word, offset);
    }

    /// <inheritdoc />
    public void CheckIntact()
    {
        var (size, links) = LinuxNative.IsSupported ? LinuxNative.Stat(_handle, _path) : (RandomAccess.GetLength(_handle), 1u);
        if (links == 0)
        {
            throw new IOException($"'{_path}' was deleted or replaced by another file.");
        }

        if (size < _size)
        {
            throw new IOException($"'{_path}' was shrunk to {size} bytes by something else (it was {_size}).");
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _handle.Dispose();
}
