using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Tests.Storage;

/// <content>Fault injection: failing operations, a full disk, flipped bits.</content>
internal sealed partial class SimulatedStorage
{
    private readonly List<FaultRule> _faults = [];
    private readonly List<BitFlip> _flips = [];
    private long? _capacityBytes;
    private bool _directIo = true;

    /// <summary>
    /// True (the default) when files can be read and written past the cache (<see cref="IStorageFile.TryReadDevice"/>:
    /// what the device holds, i.e. the current bytes without lost writes; <see cref="IStorageFile.TryWriteDevice"/>:
    /// a write whose sectors a power loss lands whole or not); false for a file system without direct
    /// IO, where both return false.
    /// </summary>
    public bool DirectIo
    {
        get
        {
            lock (_gate)
            {
                return _directIo;
            }
        }

        set
        {
            lock (_gate)
            {
                _directIo = value;
            }
        }
    }

    /// <summary>
    /// When set, a <c>Write</c> or <c>Allocate</c> that would make <see cref="UsedBytes"/> exceed it
    /// fails with ENOSPC and has no effect. Raising it (or setting null) frees space.
    /// </summary>
    public long? CapacityBytes
    {
        get
        {
            lock (_gate)
            {
                return _capacityBytes;
            }
        }

        set
        {
            lock (_gate)
            {
                _capacityBytes = value;
            }
        }
    }

    /// <summary>
    /// Makes the <paramref name="nth"/> (1-based, counted from now) future operation of
    /// <paramref name="kind"/> fail with an <see cref="IOException"/> whose HResult is
    /// <paramref name="errno"/> (<see cref="StorageErrors.NoSpaceErrno"/>, <see cref="StorageErrors.IoErrno"/>, ...).
    /// The failed operation has no effect; a failed mutating operation is still traced, as failed.
    /// </summary>
    /// <remarks>With <paramref name="fileName"/>, only operations on that file count (the segment
    /// preparer writes other files on its own thread, at times a test does not choose).</remarks>
    public void FailOperation(OperationKind kind, int nth, int errno, string? fileName = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nth, 1);
        lock (_gate)
        {
            _faults.Add(new FaultRule(kind, nth, errno, fileName, losesWrites: false));
        }
    }

    /// <summary>
    /// Makes the <paramref name="nth"/> future sync of <paramref name="kind"/> (<see cref="OperationKind.DataSync"/>
    /// or <see cref="OperationKind.FullSync"/>) fail as Linux fails one after a writeback error: with
    /// <paramref name="errno"/>, and the file's unsynced writes are lost. Reads (and mappings) still see
    /// their bytes, but their pages count as clean: no later sync writes them, a power loss takes them
    /// whatever its mode, and a read past the cache (<see cref="IStorageFile.TryReadDevice"/>) does not
    /// see them. Writing the same bytes again makes them pending like any write.
    /// </summary>
    public void FailSyncLosingWrites(OperationKind kind, int nth, int errno, string? fileName = null)
    {
        if (kind is not (OperationKind.DataSync or OperationKind.FullSync))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "only a sync loses writes");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(nth, 1);
        lock (_gate)
        {
            _faults.Add(new FaultRule(kind, nth, errno, fileName, losesWrites: true));
        }
    }

    /// <summary>
    /// Flips bit <paramref name="bit"/> (0-7) of the byte at <paramref name="offset"/> of a file, in
    /// both its current and its durable bytes (bit rot; not traced, but crash images taken later
    /// still see it).
    /// </summary>
    public void FlipBit(string name, long offset, int bit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bit, 7);
        lock (_gate)
        {
            var inode = GetExisting(name);
            ArgumentOutOfRangeException.ThrowIfNegative(offset);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(offset, inode.Content.Length);
            var flip = new BitFlip(_trace.Count, inode.Id, (int)offset, bit);
            _flips.Add(flip);
            Model.FlipBit(inode, flip.Offset, bit);

            // The cached replay may already have passed this trace position.
            _replay = null;
        }
    }

    /// <summary>Counts an operation against the fault rules; the exception to throw when one fires.</summary>
    private IOException? TakeFault(OperationKind kind, string name) => TakeFault(kind, name, out _);

    /// <summary>Counts an operation against the fault rules; the exception to throw when one fires, and whether a rule that fired loses the file's unsynced writes.</summary>
    private IOException? TakeFault(OperationKind kind, string name, out bool losesWrites)
    {
        IOException? failure = null;
        losesWrites = false;
        for (var i = 0; i < _faults.Count; i++)
        {
            var rule = _faults[i];
            if (rule.Kind != kind || (rule.FileName is { } only && only != name) || ++rule.Seen != rule.Nth)
            {
                continue;
            }

            failure ??= CreateError(rule.Errno, $"{kind} of '{name}' in '{DirectoryPath}', injected");
            losesWrites |= rule.LosesWrites;
            _faults.RemoveAt(i);
            i--;
        }

        return failure;
    }

    private IOException? CheckCapacity(OperationKind kind, string name, long growth)
    {
        if (growth <= 0 || _capacityBytes is not { } capacity || _model.UsedBytes() + growth <= capacity)
        {
            return null;
        }

        return StorageErrors.DiskFull($"{kind} of '{name}' in '{DirectoryPath}', capacity {capacity} bytes");
    }

    private static IOException CreateError(int errno, string what) => errno switch
    {
        StorageErrors.NoSpaceErrno => StorageErrors.DiskFull(what),
        StorageErrors.IoErrno => StorageErrors.InputOutput(what),
        _ => new IOException($"Injected error {errno} ({what}).", errno),
    };

    /// <summary>Fail the <see cref="Nth"/> operation of <see cref="Kind"/> (on <see cref="FileName"/>, when set) with <see cref="Errno"/>, losing the file's unsynced writes when <see cref="LosesWrites"/>.</summary>
    private sealed class FaultRule(OperationKind kind, int nth, int errno, string? fileName, bool losesWrites)
    {
        public bool LosesWrites { get; } = losesWrites;

        public OperationKind Kind { get; } = kind;

        public string? FileName { get; } = fileName;

        public int Nth { get; } = nth;

        public int Errno { get; } = errno;

        /// <summary>How many operations of <see cref="Kind"/> were counted so far.</summary>
        public int Seen { get; set; }
    }

    /// <summary>A <see cref="FlipBit"/> made after <see cref="Position"/> trace entries, replayed at that point.</summary>
    private readonly record struct BitFlip(int Position, int FileId, int Offset, int Bit);
}
