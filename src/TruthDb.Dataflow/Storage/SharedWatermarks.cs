using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using TruthDb.Dataflow.Format;

namespace TruthDb.Dataflow.Storage;

/// <summary>
/// The writer's side of <see cref="WatermarkMirror"/>: the file is written in full and synced when the
/// log opens, then each publish stores one watermark word with one positional write (pwrite) into the
/// file's page cache, which the readers' read-only mappings of the file share.
/// </summary>
/// <remarks>
/// <para>
/// Why no writable mapping: a store through a shared mapping whose page cannot be backed raises
/// SIGBUS, which .NET turns into an AccessViolationException nothing can catch: the process dies.
/// That happens on a full disk (the first store into a hole of a sparse file, or any store on a
/// copy-on-write file system) and whenever another process shrinks the file under the mapping; no
/// check before the store can rule out a truncate right after it. A pwrite reports all of these as
/// an <see cref="IOException"/> (ENOSPC, EIO), or extends a shrunk file again without harm.
/// <see cref="Durable"/> notices a shrunk, deleted or replaced file (one statx call, once per durable
/// publish) and throws, so the writer stops publishing to it.
/// </para>
/// <para>
/// Each word is one aligned 8-byte pwrite, written LSN before durable LSN in separate calls. The
/// kernel copies it into the shared page; readers load it with one 8-byte read. No system interface
/// promises that copy is a single store; on the x86-64 machine of docs/performance.md, 14 million
/// such pwrites raced against 6 billion loads through a mapping and no load saw a mix of two values.
/// </para>
/// Order of operations of <see cref="Create"/>, and what a crash at each point leaves:
/// <list type="number">
/// <item>Open (or create) <c>truthdb.watermarks</c>. It is rewritten in place, never truncated: a
/// reader in another process may have it mapped, and a page beyond a shorter file faults in that
/// reader. A crash leaves an empty or old file; readers of an empty one get no watermarks from it,
/// and an old one can only lag: every durable LSN in it was stored after its fdatasync returned.</item>
/// <item>Write all 4,096 bytes (header, written = durable = the recovered last LSN, which recovery
/// has synced; open flag 1; zeros): real bytes, so the file has no hole and later stores need no new
/// block. ENOSPC surfaces here, as an exception the caller turns into "no mirror" (a file this call
/// created is deleted again; an existing one is left as it is).</item>
/// <item>fsync the file, then the directory when the file was created. Before that, a power loss
/// can leave the old contents, a short file or none, as above.</item>
/// </list>
/// </remarks>
internal sealed class SharedWatermarks : IWatermarkMirror
{
    private readonly SafeFileHandle _handle;
    private readonly string _path;

    private SharedWatermarks(SafeFileHandle handle, string path)
    {
        _handle = handle;
        _path = path;
    }

    /// <summary>
    /// Creates (or rewrites) the mirror of <paramref name="logId"/> in <paramref name="directory"/>,
    /// written in full and synced; throws an <see cref="IOException"/> (or
    /// <see cref="UnauthorizedAccessException"/>) when that fails.
    /// </summary>
    public static SharedWatermarks Create(string directory, LogId logId, long lastLsn)
    {
        var path = Path.Combine(directory, WatermarkMirror.FileName);
        var created = !File.Exists(path);
        var handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            RandomAccess.Write(handle, WatermarkMirror.Create(logId, lastLsn, lastLsn), 0);
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

            return new SharedWatermarks(handle, path);
        }
        catch
        {
            handle.Dispose();
            if (created)
            {
                // Leave no half-made mirror behind: readers find none, as when there never was one.
                File.Delete(path);
            }

            throw;
        }
    }

    /// <summary>Mirrors the written watermark: one 8-byte pwrite.</summary>
    public void Written(long lsn) => Store(WatermarkMirror.WrittenOffset, lsn);

    /// <summary>
    /// Mirrors the durable watermark (after the written one): checks that the file is still the
    /// full-size file in the directory, then one 8-byte pwrite.
    /// </summary>
    public void Durable(long lsn)
    {
        EnsureIntact();
        Store(WatermarkMirror.DurableOffset, lsn);
    }

    /// <summary>Marks the log closed (the open flag becomes 0).</summary>
    public void Closed()
    {
        EnsureIntact();
        Store(WatermarkMirror.OpenOffset, 0);
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _handle.Dispose();

    private void Store(int offset, long value)
    {
        Span<byte> word = stackalloc byte[sizeof(long)];
        BinaryPrimitives.WriteInt64LittleEndian(word, value);
        RandomAccess.Write(_handle, word, offset);
    }

    private void EnsureIntact()
    {
        var (size, links) = LinuxNative.IsSupported ? LinuxNative.Stat(_handle, _path) : (RandomAccess.GetLength(_handle), 1u);
        if (links == 0)
        {
            throw new IOException($"'{_path}' was deleted or replaced by another file.");
        }

        if (size < WatermarkMirror.Size)
        {
            throw new IOException($"'{_path}' was shrunk to {size} bytes by something else (it was {WatermarkMirror.Size}).");
        }
    }
}
