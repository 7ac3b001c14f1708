using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Tests.Storage;

/// <summary>
/// A deterministic, in-memory <see cref="IWalStorage"/> for crash and fault tests.
/// </summary>
/// <remarks>
/// <para>
/// Model: a directory maps names to inodes. The <em>current</em> directory changes at once on
/// <see cref="Create"/>, <see cref="Rename"/> and <see cref="Delete"/>; the <em>durable</em> one
/// catches up on <see cref="SyncDirectory"/>. Each inode has current bytes (what reads see) and the
/// list of writes and length changes since its last <c>DataSync</c>/<c>FullSync</c>; its durable
/// bytes are the current ones with those undone. Handles refer to inodes, so they survive renames
/// and deletes, as on POSIX.
/// </para>
/// <para>
/// Every mutating operation is appended to <see cref="Trace"/>. <see cref="CrashImage"/> replays a
/// prefix of the trace from this storage's initial state and simulates a power loss at that point;
/// <see cref="ProcessCrashImage"/> simulates a process crash (everything written reached the OS,
/// nothing more became durable). Both return a new storage whose initial state is the image, so
/// crashes can be chained: crash, recover, crash again.
/// </para>
/// <para>
/// Faults: <see cref="FailOperation"/>, <see cref="CapacityBytes"/> and <see cref="FlipBit"/>.
/// Everything is deterministic: the same calls with the same seeds give the same bytes. One lock
/// guards all state, so the engine may call it from several threads.
/// </para>
/// </remarks>
internal sealed partial class SimulatedStorage : IWalStorage
{
    private readonly Lock _gate = new();
    private readonly Model _initial;
    private readonly Model _model;
    private bool _writerLockHeld;
    private int _openFiles;

    /// <summary>Creates an empty simulated directory.</summary>
    /// <param name="directoryPath">The directory path reported in messages, e.g. <c>sim://test</c>.</param>
    public SimulatedStorage(string directoryPath)
        : this(directoryPath, new Model())
    {
    }

    private SimulatedStorage(string directoryPath, Model initial)
    {
        ArgumentException.ThrowIfNullOrEmpty(directoryPath);
        DirectoryPath = directoryPath;
        _initial = initial;
        _model = initial.Clone();
    }

    /// <inheritdoc/>
    public string DirectoryPath { get; }

    /// <summary>The number of file handles created or opened and not yet disposed.</summary>
    public int OpenFileCount
    {
        get
        {
            lock (_gate)
            {
                return _openFiles;
            }
        }
    }

    /// <summary>The sum of the current lengths of the files in the directory (what <see cref="CapacityBytes"/> limits).</summary>
    public long UsedBytes
    {
        get
        {
            lock (_gate)
            {
                return _model.UsedBytes();
            }
        }
    }

    /// <inheritdoc/>
    public IDisposable AcquireWriterLock()
    {
        lock (_gate)
        {
            if (_writerLockHeld)
            {
                throw new IOException($"The log directory '{DirectoryPath}' is already open by another writer.");
            }

            _writerLockHeld = true;
            return new WriterLock(this);
        }
    }

    /// <summary>The names of the files in the current directory, sorted ordinally.</summary>
    public IReadOnlyList<string> ListFiles()
    {
        lock (_gate)
        {
            return _model.ListNames();
        }
    }

    /// <inheritdoc/>
    public IStorageFile Create(string name)
    {
        ValidateName(name);
        lock (_gate)
        {
            if (_model.TryGet(name, out _))
            {
                throw new IOException($"The file '{name}' already exists in '{DirectoryPath}'.");
            }

            var id = _model.NextInodeId;
            Record(OperationKind.Create, name, id, null, 0, 0, null, 0);
            var inode = _model.Create(name, id);
            _openFiles++;
            return new SimulatedFile(this, inode, name, writable: true);
        }
    }

    /// <inheritdoc/>
    public IStorageFile Open(string name, bool writable)
    {
        ValidateName(name);
        lock (_gate)
        {
            var inode = GetExisting(name);
            var failure = TakeFault(OperationKind.Open, name);
            if (failure is not null)
            {
                throw failure;
            }

            _openFiles++;
            return new SimulatedFile(this, inode, name, writable);
        }
    }

    /// <inheritdoc/>
    public void Rename(string name, string newName)
    {
        ValidateName(name);
        ValidateName(newName);
        lock (_gate)
        {
            var inode = GetExisting(name);
            Record(OperationKind.Rename, name, inode.Id, newName, 0, 0, null, 0);
            _model.Rename(name, newName);
        }
    }

    /// <inheritdoc/>
    public void Delete(string name)
    {
        ValidateName(name);
        lock (_gate)
        {
            var id = _model.TryGet(name, out var inode) ? inode.Id : 0;
            Record(OperationKind.Delete, name, id, null, 0, 0, null, 0);
            _model.Delete(name);
        }
    }

    /// <inheritdoc/>
    public void SyncDirectory()
    {
        lock (_gate)
        {
            Record(OperationKind.SyncDirectory, string.Empty, 0, null, 0, 0, null, 0);
            _model.SyncDirectory();
        }
    }

    /// <summary>True when <paramref name="name"/> is in the current directory.</summary>
    public bool Exists(string name)
    {
        lock (_gate)
        {
            return _model.TryGet(name, out _);
        }
    }

    /// <summary>A copy of the current bytes of a file (what a read would see now).</summary>
    /// <exception cref="FileNotFoundException">The file is not in the current directory.</exception>
    public byte[] ReadAllCurrent(string name)
    {
        lock (_gate)
        {
            return GetExisting(name).Content.Span.ToArray();
        }
    }

    private static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is a path; storage names are plain file names.", nameof(name));
        }
    }

    private Inode GetExisting(string name)
    {
        if (!_model.TryGet(name, out var inode))
        {
            throw new FileNotFoundException($"Could not find file '{name}' in '{DirectoryPath}'.", name);
        }

        return inode;
    }

    /// <summary>The exclusive writer lock; disposing it (once or more) releases it.</summary>
    private sealed class WriterLock(SimulatedStorage owner) : IDisposable
    {
        private bool _released;

        public void Dispose()
        {
            lock (owner._gate)
            {
                if (!_released)
                {
                    _released = true;
                    owner._writerLockHeld = false;
                }
            }
        }
    }
}
