using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Tests.Support;

/// <summary>
/// A storage whose segment syncs wait at a gate the test opens, so a test can hold the writer in
/// the middle of a group commit and observe what producers see meanwhile.
/// </summary>
internal sealed class GatedStorage(IWalStorage inner) : IWalStorage
{
    private readonly SemaphoreSlim _gate = new(0);
    private readonly SemaphoreSlim _entered = new(0);
    private volatile bool _closed = true;
    private volatile Func<string, bool> _gatedFiles = _ => true;

    public string DirectoryPath => inner.DirectoryPath;

    /// <summary>From now on, every sync of a file waits until <see cref="Open()"/>.</summary>
    public void Close() => Close(_ => true);

    /// <summary>From now on, the syncs of the files <paramref name="gatedFiles"/> picks by name wait until <see cref="Open()"/>.</summary>
    public void Close(Func<string, bool> gatedFiles)
    {
        _gatedFiles = gatedFiles;
        _closed = false;
    }

    /// <summary>Lets every waiting and future sync through.</summary>
    public void Open()
    {
        _closed = true;
        _gate.Release(1000);
    }

    /// <summary>Waits until a sync is held at the gate.</summary>
    public Task WaitForHeldSyncAsync(CancellationToken ct) => _entered.WaitAsync(ct);

    public IDisposable AcquireWriterLock() => inner.AcquireWriterLock();

    public IReadOnlyList<string> ListFiles() => inner.ListFiles();

    public IStorageFile Create(string name) => new GatedFile(inner.Create(name), this);

    public IStorageFile Open(string name, bool writable) => new GatedFile(inner.Open(name, writable), this);

    public void Rename(string name, string newName) => inner.Rename(name, newName);

    public void Delete(string name) => inner.Delete(name);

    public void SyncDirectory() => inner.SyncDirectory();

    public IMappedFile MapReadOnly(string name) => inner.MapReadOnly(name);

    public ISharedFile? CreateSharedFile(string name, ReadOnlySpan<byte> contents) => inner.CreateSharedFile(name, contents);

    public IChangeWatch? WatchChanges(string fileName, Func<string, bool> isEntryOfInterest, TimeSpan tick) => inner.WatchChanges(fileName, isEntryOfInterest, tick);

    private void Pass(string fileName)
    {
        if (!_closed && _gatedFiles(fileName))
        {
            _entered.Release();
            _gate.Wait();
        }
    }

    private sealed class GatedFile(IStorageFile file, GatedStorage owner) : IStorageFile
    {
        public string Name => file.Name;

        public long Length => file.Length;

        public int Read(long offset, Span<byte> buffer) => file.Read(offset, buffer);

        public void Write(long offset, ReadOnlySpan<byte> data) => file.Write(offset, data);

        public void Allocate(long length) => file.Allocate(length);

        public bool WarmCache(long offset, long length) => file.WarmCache(offset, length);

        public bool TryReadDevice(long offset, Span<byte> buffer, out int read) => file.TryReadDevice(offset, buffer, out read);

        public bool TryWriteDevice(long offset, ReadOnlySpan<byte> data) => file.TryWriteDevice(offset, data);

        public void DataSync()
        {
            owner.Pass(file.Name);
            file.DataSync();
        }

        public void FullSync() => file.FullSync();

        public void Dispose() => file.Dispose();
    }
}
