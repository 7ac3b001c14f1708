using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Tests.Storage;

/// <content>Fault injection: failing operations, a full disk, flipped bits.</content>
internal sealed partial class SimulatedStorage
{
    private readonly List<FaultRule> _faults = [];
    private readonly List<BitFlip> _flips = [];
    private long? _capacityBytes;

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
            _faults.Add(new FaultRule(kind, nth, errno, fileName));
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
    private IOException? TakeFault(OperationKind kind, string name)
    {
        IOException? failure = null;
        for (var i = 0; i < _faults.Count; i++)
        {
            var rule = _faults[i];
            if (rule.Kind != kind || (rule.FileName is { } only && only != name) || ++rule.Seen != rule.Nth)
            {
                continue;
            }

            failure ??= CreateError(rule.Errno, $"{kind} of '{name}' in '{DirectoryPath}', injected");
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

    /// <summary>Fail the <see cref="Nth"/> operation of <see cref="Kind"/> (on <see cref="FileName"/>, when set) with <see cref="Errno"/>.</summary>
    private sealed class FaultRule(OperationKind kind, int nth, int errno, string? fileName)
    {
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
