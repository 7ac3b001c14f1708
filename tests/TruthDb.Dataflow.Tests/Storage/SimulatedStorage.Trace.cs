using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Tests.Storage;

/// <summary>The kinds of storage operations the simulation traces and can fail.</summary>
internal enum OperationKind
{
    /// <summary><see cref="SimulatedStorage.Create"/>.</summary>
    Create,

    /// <summary><see cref="SimulatedStorage.Rename"/>.</summary>
    Rename,

    /// <summary><see cref="SimulatedStorage.Delete"/>.</summary>
    Delete,

    /// <summary><see cref="SimulatedStorage.SyncDirectory"/>.</summary>
    SyncDirectory,

    /// <summary>A positional write through a file handle.</summary>
    Write,

    /// <summary>An <c>Allocate</c> through a file handle.</summary>
    Allocate,

    /// <summary>A <c>DataSync</c> (fdatasync) through a file handle.</summary>
    DataSync,

    /// <summary>A <c>FullSync</c> (fsync) through a file handle.</summary>
    FullSync,

    /// <summary><see cref="SimulatedStorage.Open"/>: can be failed, never traced (it changes nothing).</summary>
    Open,

    /// <summary>A read through a file handle: can be failed, never traced (it changes nothing).</summary>
    Read,
}

/// <summary>What a simulated power loss does with the writes that were not yet synced.</summary>
internal enum CrashMode
{
    /// <summary>Only what was synced survives: no unsynced write, no unsynced directory change.</summary>
    DropUnsynced,

    /// <summary>Everything survives, as if the OS flushed its caches in order just before the power went.</summary>
    KeepUnsynced,

    /// <summary>
    /// Each unsynced write independently survives, vanishes or is torn (a random subset of its
    /// 512-byte sectors, or a random prefix of its bytes, lands; the rest keeps the old bytes or
    /// becomes zeros or garbage); each unsynced length change survives or not; a random prefix of
    /// the unsynced directory changes survives.
    /// </summary>
    TearUnsynced,
}

/// <summary>One mutating operation of a <see cref="SimulatedStorage"/>, with all it needs to be replayed.</summary>
internal sealed class TraceEntry
{
    /// <summary>The position of the entry in the trace (0-based).</summary>
    public required int Index { get; init; }

    /// <summary>What the operation was.</summary>
    public required OperationKind Kind { get; init; }

    /// <summary>
    /// The file the operation named or touched (for a file operation the file's current name, which
    /// follows renames); empty for <see cref="OperationKind.SyncDirectory"/>.
    /// </summary>
    public required string Name { get; init; }

    /// <summary>The simulated inode the operation touched (0 when none, e.g. deleting a missing file).</summary>
    public required int FileId { get; init; }

    /// <summary>The target name of a <see cref="OperationKind.Rename"/>; otherwise null.</summary>
    public string? NewName { get; init; }

    /// <summary>The offset of a <see cref="OperationKind.Write"/>; otherwise 0.</summary>
    public long Offset { get; init; }

    /// <summary>The byte count of a <see cref="OperationKind.Write"/>, or the requested length of an <see cref="OperationKind.Allocate"/>.</summary>
    public long Length { get; init; }

    /// <summary>A private copy of the bytes of a <see cref="OperationKind.Write"/>; otherwise null.</summary>
    public byte[]? Bytes { get; init; }

    /// <summary>The bytes of a <see cref="OperationKind.Write"/> (empty for other operations).</summary>
    public ReadOnlyMemory<byte> Data => Bytes;

    /// <summary>The name of the thread that performed the operation.</summary>
    public string? ThreadName { get; init; }

    /// <summary>The value <see cref="SimulatedStorage.Probe"/> returned just before the operation, when a probe was set.</summary>
    public long? ProbeValue { get; init; }

    /// <summary>True when an injected fault (or the capacity limit) failed the operation; it then had no effect (but see <see cref="LostWrites"/>).</summary>
    public bool Failed { get; init; }

    /// <summary>True for a failed sync that lost the file's unsynced writes (<see cref="SimulatedStorage.FailSyncLosingWrites"/>).</summary>
    public bool LostWrites { get; init; }

    /// <summary>True for a <see cref="OperationKind.Write"/> made past the cache (<see cref="IStorageFile.TryWriteDevice"/>).</summary>
    public bool Direct { get; init; }

    /// <inheritdoc/>
    public override string ToString()
    {
        var what = Kind switch
        {
            OperationKind.Write => $"{Name} @{Offset}+{Length}{(Direct ? " direct" : string.Empty)}",
            OperationKind.Allocate => $"{Name} to {Length}",
            OperationKind.Rename => $"{Name} -> {NewName}",
            _ => Name,
        };
        var probe = ProbeValue is { } value ? $" probe={value}" : string.Empty;
        var failed = Failed ? (LostWrites ? " FAILED, writes lost" : " FAILED") : string.Empty;
        return $"#{Index} {Kind} {what} on '{ThreadName}'{probe}{failed}";
    }
}

/// <content>The operation trace and the probe.</content>
internal sealed partial class SimulatedStorage
{
    private readonly List<TraceEntry> _trace = [];
    private Func<long>? _probe;

    /// <summary>The number of traced (mutating) operations so far, failed ones included.</summary>
    public int OperationCount
    {
        get
        {
            lock (_gate)
            {
                return _trace.Count;
            }
        }
    }

    /// <summary>A snapshot of the trace: every mutating operation so far, in the order it happened.</summary>
    public IReadOnlyList<TraceEntry> Trace
    {
        get
        {
            lock (_gate)
            {
                return _trace.ToArray();
            }
        }
    }

    /// <summary>
    /// Called under the storage lock just before each mutating operation (even one that then fails);
    /// its value is kept in <see cref="TraceEntry.ProbeValue"/>. It must not block on the engine.
    /// </summary>
    public Func<long>? Probe
    {
        get
        {
            lock (_gate)
            {
                return _probe;
            }
        }

        set
        {
            lock (_gate)
            {
                _probe = value;
            }
        }
    }

    /// <summary>
    /// Traces a mutating operation, and throws (after tracing it as failed, and losing the file's
    /// unsynced writes when the fault says so) when an injected fault or the capacity limit fails it (<paramref name="growth"/>: the bytes the operation adds to the
    /// file). Call under the lock, after validation, before applying the operation.
    /// </summary>
    private void Record(OperationKind kind, string name, int fileId, string? newName, long offset, long length, byte[]? bytes, long growth, bool direct = false)
    {
        long? probe = _probe?.Invoke();
        var failure = TakeFault(kind, name, out var losesWrites) ?? CheckCapacity(kind, name, growth);
        _trace.Add(new TraceEntry
        {
            Index = _trace.Count,
            Kind = kind,
            Name = name,
            FileId = fileId,
            NewName = newName,
            Offset = offset,
            Length = length,
            Bytes = bytes,
            ThreadName = Thread.CurrentThread.Name,
            ProbeValue = probe,
            Failed = failure is not null,
            LostWrites = losesWrites,
            Direct = direct,
        });
        if (failure is not null)
        {
            if (losesWrites && _model.FindById(fileId) is { } inode)
            {
                Model.LoseWrites(inode);
            }

            throw failure;
        }
    }
}
