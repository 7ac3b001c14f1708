using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Tests.Support;

/// <summary>
/// A storage that counts how often the directory is listed (and wakes the test at each listing), and
/// whose change watch fails with <paramref name="watchFailure"/> when one is given (an inotify limit
/// reached, say). Everything else goes to <paramref name="inner"/>.
/// </summary>
internal sealed class CountingStorage(IWalStorage inner, IOException? watchFailure = null) : IWalStorage
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _listed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _listings;

    public int Listings => Volatile.Read(ref _listings);

    public string DirectoryPath => inner.DirectoryPath;

    /// <summary>Completes when the directory has been listed more than <paramref name="count"/> times.</summary>
    public async Task ListedMoreThanAsync(int count, CancellationToken ct)
    {
        while (true)
        {
            Task next;
            lock (_gate)
            {
                if (_listings > count)
                {
                    return;
                }

                next = _listed.Task;
            }

            await next.WaitAsync(ct);
        }
    }

    public IReadOnlyList<string> ListFiles()
    {
        var names = inner.ListFiles();
        lock (_gate)
        {
            _listings++;
            _listed.TrySetResult();
            _listed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        return names;
    }

    public IChangeWatch? WatchChanges(string fileName, Func<string, bool> isEntryOfInterest, TimeSpan tick) =>
        watchFailure is null ? inner.WatchChanges(fileName, isEntryOfInterest, tick) : throw watchFailure;

    public IDisposable AcquireWriterLock() => inner.AcquireWriterLock();

    public IStorageFile Create(string name) => inner.Create(name);

    public IStorageFile Open(string name, bool writable) => inner.Open(name, writable);

    public void Rename(string name, string newName) => inner.Rename(name, newName);

    public void Delete(string name) => inner.Delete(name);

    public void SyncDirectory() => inner.SyncDirectory();

    public IMappedFile MapReadOnly(string name) => inner.MapReadOnly(name);

    public ISharedFile? CreateSharedFile(string name, ReadOnlySpan<byte> contents) => inner.CreateSharedFile(name, contents);
}
