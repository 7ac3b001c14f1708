using Microsoft.Win32.SafeHandles;

namespace TruthDb.Dataflow.Storage;

/// <summary>
/// The real storage: <see cref="RandomAccess"/> positional IO on <see cref="SafeFileHandle"/>s, and on
/// Linux fdatasync / fallocate / directory fsync through <see cref="LinuxNative"/>. Elsewhere it falls
/// back to <see cref="FileStream.Flush(bool)"/> (a full flush) and skips the directory sync, which
/// those platforms do not offer through .NET.
/// </summary>
internal sealed class FileSystemStorage : IWalStorage
{
    /// <summary>The name of the writer lock file in the directory.</summary>
    public const string LockFileName = "truthdb.lock";

    private readonly string _directory;

    /// <summary>Uses (and creates if needed) the directory at <paramref name="directory"/>.</summary>
    public FileSystemStorage(string directory)
    {
        _directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(_directory);
    }

    /// <inheritdoc />
    public string DirectoryPath => _directory;

    /// <inheritdoc />
    public IDisposable AcquireWriterLock()
    {
        var path = Path.Combine(_directory, LockFileName);
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock on Unix) that another process or
            // another open in this process cannot get; the OS drops it when the process dies.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException ex)
        {
            throw new IOException(
                $"The log directory '{_directory}' is already open by another writer (its lock file '{path}' is held by this or another process). Only one writer may open a log at a time.",
                ex);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ListFiles()
    {
        var names = new List<string>();
        foreach (var path in Directory.EnumerateFiles(_directory))
        {
            names.Add(Path.GetFileName(path));
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <inheritdoc />
    public IStorageFile Create(string name) => OpenFile(name, FileMode.CreateNew, writable: true);

    /// <inheritdoc />
    public IStorageFile Open(string name, bool writable) => OpenFile(name, FileMode.Open, writable);

    /// <inheritdoc />
    public void Rename(string name, string newName) => File.Move(PathOf(name), PathOf(newName), overwrite: true);

    /// <inheritdoc />
    public void Delete(string name) => File.Delete(PathOf(name));

    /// <inheritdoc />
    public void SyncDirectory()
    {
        if (LinuxNative.IsSupported)
        {
            LinuxNative.SyncDirectory(_directory);
        }
    }

    /// <inheritdoc />
    public IMappedFile MapReadOnly(string name) => MappedFile.Open(PathOf(name));

    /// <inheritdoc />
    public ISharedFile? CreateSharedFile(string name, ReadOnlySpan<byte> contents) => SharedFile.Create(_directory, name, contents);

    /// <inheritdoc />
    public IChangeWatch? WatchChanges(string fileName, Func<string, bool> isEntryOfInterest, TimeSpan tick) =>
        LinuxNative.IsSupported ? InotifyWatch.Start(_directory, fileName, isEntryOfInterest, tick) : null;

    private string PathOf(string name) => Path.Combine(_directory, name);

    private RealFile OpenFile(string name, FileMode mode, bool writable)
    {
        var path = PathOf(name);
        var access = writable ? FileAccess.ReadWrite : FileAccess.Read;

        // Readers and the writer share segment files; FileShare.Delete lets a segment be renamed or
        // retired while handles are open (POSIX semantics on Windows too).
        var handle = File.OpenHandle(path, mode, access, FileShare.ReadWrite | FileShare.Delete, FileOptions.None);
        return new RealFile(name, path, handle);
    }

    private sealed class RealFile(string name, string path, SafeFileHandle handle) : IStorageFile
    {
        // Only where no native sync exists: a stream over the handle to call Flush(true) on. It owns the handle.
        private FileStream? _portable;

        public string Name => name;

        public long Length => RandomAccess.GetLength(handle);

        public int Read(long offset, Span<byte> buffer) => RandomAccess.Read(handle, buffer, offset);

        public void Write(long offset, ReadOnlySpan<byte> data) => RandomAccess.Write(handle, data, offset);

        public void Allocate(long length)
        {
            if (LinuxNative.IsSupported && LinuxNative.Allocate(handle, length, path))
            {
                return;
            }

            if (RandomAccess.GetLength(handle) < length)
            {
                RandomAccess.SetLength(handle, length);
            }
        }

        public bool WarmCache(long offset, long length) => LinuxNative.IsSupported && LinuxNative.AdviseWillNeed(handle, offset, length);

        public bool TryReadDevice(long offset, Span<byte> buffer, out int read)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(offset);
            read = 0;
            return LinuxNative.IsSupported && LinuxNative.TryReadDirect(handle, path, offset, buffer, out read);
        }

        public bool TryWriteDevice(long offset, ReadOnlySpan<byte> data)
        {
            if (offset % IStorageFile.DirectBlockSize != 0 || data.Length % IStorageFile.DirectBlockSize != 0)
            {
                throw new ArgumentException($"A direct write must start and end on a multiple of {IStorageFile.DirectBlockSize} bytes (offset {offset}, {data.Length} bytes).", nameof(data));
            }

            return LinuxNative.IsSupported && LinuxNative.TryWriteDirect(handle, path, offset, data);
        }

        public void DataSync() => Sync(full: false);

        public void FullSync() => Sync(full: true);

        public void Dispose()
        {
            if (_portable is not null)
            {
                _portable.Dispose();
                return;
            }

            handle.Dispose();
        }

        private void Sync(bool full)
        {
            if (LinuxNative.IsSupported)
            {
                LinuxNative.Sync(handle, full, path);
                return;
            }

            _portable ??= new FileStream(handle, FileAccess.ReadWrite, 0);
            _portable.Flush(flushToDisk: true);
        }
    }
}
