namespace TruthDb.Dataflow.Storage;

/// <summary>
/// The storage seam: every file operation the engine performs goes through this interface, so the
/// real file system (<see cref="FileSystemStorage"/>) and a simulated one for crash tests can be
/// swapped. Names are plain file names inside one log directory, never paths.
/// </summary>
/// <remarks>
/// Durability model the engine relies on (and the simulation reproduces):
/// <list type="bullet">
/// <item>A <see cref="IStorageFile.Write"/> reaches the OS (it survives a process crash) but may be
/// lost, reordered or torn by a power loss until <see cref="IStorageFile.DataSync"/> returns.</item>
/// <item><see cref="Create"/>, <see cref="Rename"/> and <see cref="Delete"/> change the directory,
/// and survive a power loss only once <see cref="SyncDirectory"/> returns.</item>
/// <item>Errors are <see cref="IOException"/>s; a full disk carries the ENOSPC error code
/// (see <see cref="StorageErrors.IsDiskFull"/>).</item>
/// </list>
/// Implementations are safe for concurrent use on different files.
/// </remarks>
internal interface IWalStorage
{
    /// <summary>The log directory this storage works in (for messages).</summary>
    string DirectoryPath { get; }

    /// <summary>Takes the exclusive writer lock of the directory, or throws an <see cref="IOException"/>.</summary>
    IDisposable AcquireWriterLock();

    /// <summary>The names of the files in the directory.</summary>
    IReadOnlyList<string> ListFiles();

    /// <summary>Creates a new, empty file; fails if it exists.</summary>
    IStorageFile Create(string name);

    /// <summary>Opens an existing file for reading, and for writing when <paramref name="writable"/>.</summary>
    IStorageFile Open(string name, bool writable);

    /// <summary>Renames a file, replacing <paramref name="newName"/> if it exists.</summary>
    void Rename(string name, string newName);

    /// <summary>Deletes a file if it exists.</summary>
    void Delete(string name);

    /// <summary>Makes the directory's entries (creates, renames, deletes) durable.</summary>
    void SyncDirectory();

    /// <summary>
    /// Maps a whole file read-only. The mapping shows what is written to the file later too (the
    /// page cache is shared), stays valid after the file is renamed or deleted, and ends on dispose.
    /// </summary>
    IMappedFile MapReadOnly(string name);

    /// <summary>
    /// Creates (or rewrites) the small file <paramref name="name"/> that readers in other processes
    /// read while this process updates it in place, one aligned 8-byte word at a time (the writer's
    /// watermark mirror), written in full with <paramref name="contents"/> and synced; or returns null
    /// where there are no other processes (a simulated storage). Throws an <see cref="IOException"/>
    /// (or <see cref="UnauthorizedAccessException"/>) when it cannot be created, a full disk say.
    /// </summary>
    ISharedFile? CreateSharedFile(string name, ReadOnlySpan<byte> contents);

    /// <summary>
    /// Starts watching the directory for what other processes change in it (a reader's way to learn of
    /// the writer's progress without polling): the contents of the file <paramref name="fileName"/>
    /// (while it exists), and the entries created, renamed or deleted whose name
    /// <paramref name="isEntryOfInterest"/> accepts or that are <paramref name="fileName"/>; and a tick
    /// every <paramref name="tick"/>. Returns null where this storage cannot watch (no inotify: another
    /// OS; a simulated storage). Throws an <see cref="IOException"/> when watching fails (a per-user
    /// limit of the kernel's watches, say).
    /// </summary>
    IChangeWatch? WatchChanges(string fileName, Func<string, bool> isEntryOfInterest, TimeSpan tick);
}

/// <summary>
/// A watch started by <see cref="IWalStorage.WatchChanges"/>. Counters only grow; each is stored before
/// the signal that announces it. Nothing it does writes to the directory.
/// </summary>
internal interface IChangeWatch : IDisposable
{
    /// <summary>How many times entries of interest changed; also counts the watched file being replaced, and events the kernel dropped (any change may be among them).</summary>
    long EntryChanges { get; }

    /// <summary>How many ticks have passed.</summary>
    long Ticks { get; }

    /// <summary>True once the watch cannot see changes anymore (the directory itself was removed or moved).</summary>
    bool IsBroken { get; }

    /// <summary>A task that completes at the next change or tick (or dispose). Look at what you wait for after taking it, then await it.</summary>
    Task NextChange();

    /// <summary>Wakes every waiter now, without a change (a wait that was cancelled).</summary>
    void Wake();

    /// <summary>Counts every change the kernel has reported by now: a change that happened before this call is in the counters when it returns.</summary>
    void Settle();
}

/// <summary>
/// A file shared with readers in other processes, updated in place. Every call may throw an
/// <see cref="IOException"/> (a full disk, an IO error, the file shrunk, deleted or replaced by
/// something else), never anything that ends the process.
/// </summary>
internal interface ISharedFile : IDisposable
{
    /// <summary>Stores <paramref name="value"/> as the little-endian 8-byte word at <paramref name="offset"/> (8-byte aligned): one positional write.</summary>
    void Store(int offset, long value);

    /// <summary>Throws an <see cref="IOException"/> when the file was shrunk below its size, deleted, or replaced by another file.</summary>
    void CheckIntact();
}

/// <summary>A read-only mapping of a whole file (at most 2 GiB).</summary>
internal interface IMappedFile : IDisposable
{
    /// <summary>The mapped bytes; slices of it stay valid until the mapping is disposed.</summary>
    ReadOnlyMemory<byte> Bytes { get; }
}

/// <summary>An open file of an <see cref="IWalStorage"/>.</summary>
internal interface IStorageFile : IDisposable
{
    /// <summary>
    /// The unit of <see cref="TryWriteDevice"/>: a multiple of every logical block size in common use
    /// (512 and 4,096 bytes), which direct IO requires of offsets, lengths and buffers.
    /// </summary>
    const int DirectBlockSize = 4096;

    /// <summary>The file name.</summary>
    string Name { get; }

    /// <summary>The current length of the file in bytes.</summary>
    long Length { get; }

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>; returns the count read (0 at the end).</summary>
    int Read(long offset, Span<byte> buffer);

    /// <summary>One positional write of all of <paramref name="data"/> at <paramref name="offset"/>.</summary>
    void Write(long offset, ReadOnlySpan<byte> data);

    /// <summary>Reserves space up to <paramref name="length"/> bytes (fallocate); fails with ENOSPC when the disk is full.</summary>
    void Allocate(long length);

    /// <summary>
    /// Brings [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of the
    /// file into the page cache, so that later writes smaller than a page find their pages there
    /// instead of having the kernel zero new ones on the writing thread. Reserved (unwritten) extents
    /// are read as zeros without disk IO. Advisory: changes no byte of the file, and a refusal costs
    /// only speed.
    /// </summary>
    /// <returns>False when the storage cannot do it (then asking again is pointless).</returns>
    bool WarmCache(long offset, long length);

    /// <summary>
    /// Reads what the storage device holds at <paramref name="offset"/>, past the OS page cache
    /// (O_DIRECT: dirty cached pages of the range are written back first, and a failure of that
    /// writeback is this read's error). After a failed sync, Linux may keep pages in its cache that
    /// never reached the disk and count them clean: a plain read, and every later fdatasync, take their
    /// bytes for durable ones; this read does not.
    /// </summary>
    /// <returns>
    /// False when the storage cannot read past its cache (a file system without direct IO; then asking
    /// again is pointless); otherwise true, with the count read in <paramref name="read"/> (fewer than
    /// asked only at the end of the file).
    /// </returns>
    bool TryReadDevice(long offset, Span<byte> buffer, out int read);

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/> past the OS page cache (O_DIRECT; the
    /// kernel drops or unmaps the range's cached pages after the write). Both must be multiples of
    /// <see cref="DirectBlockSize"/>. Durable only after <see cref="DataSync"/>, like any write. After a
    /// failed sync, a buffered write of the lost bytes is not enough on ext4: their blocks stay
    /// "unwritten" and read back as zeros once the cache drops them; a direct write converts them.
    /// </summary>
    /// <returns>False when the storage cannot write past its cache (then nothing was written).</returns>
    bool TryWriteDevice(long offset, ReadOnlySpan<byte> data);

    /// <summary>Makes the file's data (and the size needed to read it back) durable: fdatasync.</summary>
    void DataSync();

    /// <summary>Makes the file's data and all its metadata durable: fsync.</summary>
    void FullSync();
}
