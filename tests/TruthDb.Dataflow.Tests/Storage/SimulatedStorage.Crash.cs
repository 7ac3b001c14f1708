namespace TruthDb.Dataflow.Tests.Storage;

/// <content>Crash images: replaying a prefix of the trace, then losing power or the process.</content>
internal sealed partial class SimulatedStorage
{
    /// <summary>
    /// A replay of the first <see cref="_replayCount"/> trace entries, kept so that images taken at
    /// increasing crash points replay each entry once. Null when it must be rebuilt.
    /// </summary>
    private Model? _replay;
    private int _replayCount;

    /// <summary>
    /// The storage a power loss would leave right after the first <paramref name="operationCount"/>
    /// traced operations: the same <see cref="DirectoryPath"/>, everything in it durable, an empty
    /// trace, no faults. Deterministic in (<paramref name="operationCount"/>, <paramref name="mode"/>,
    /// <paramref name="seed"/>).
    /// </summary>
    /// <remarks>
    /// The durable directory survives plus a prefix of the later directory changes (none, all, or a
    /// random prefix for <see cref="CrashMode.TearUnsynced"/>); each surviving file keeps its durable
    /// bytes plus the unsynced writes the mode lets through.
    /// </remarks>
    public SimulatedStorage CrashImage(int operationCount, CrashMode mode, int seed)
    {
        lock (_gate)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(operationCount);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(operationCount, _trace.Count);
            var model = operationCount == _trace.Count ? _model : ReplayTo(operationCount);
            return new SimulatedStorage(DirectoryPath, model.PowerLoss(mode, new Random(seed)));
        }
    }

    /// <summary>
    /// The storage a process crash would leave now: every write reached the OS, so the current
    /// bytes and names are all there, but what was not synced stays as vulnerable to a later power
    /// loss (<see cref="CrashImage"/> of the result) as it was here.
    /// </summary>
    public SimulatedStorage ProcessCrashImage()
    {
        lock (_gate)
        {
            return new SimulatedStorage(DirectoryPath, _model.Clone());
        }
    }

    /// <summary>The model after the first <paramref name="count"/> trace entries. Call under the lock.</summary>
    private Model ReplayTo(int count)
    {
        if (_replay is null || _replayCount > count)
        {
            _replay = _initial.Clone();
            _replayCount = 0;
            ReplayFlips(_replay, 0);
        }

        while (_replayCount < count)
        {
            Replay(_replay, _trace[_replayCount]);
            _replayCount++;
            ReplayFlips(_replay, _replayCount);
        }

        return _replay;
    }

    private static void Replay(Model model, TraceEntry entry)
    {
        if (entry.Failed)
        {
            if (entry.LostWrites && model.FindById(entry.FileId) is { } failed)
            {
                Model.LoseWrites(failed);
            }

            return;
        }

        switch (entry.Kind)
        {
            case OperationKind.Create:
                model.Create(entry.Name, entry.FileId);
                return;
            case OperationKind.Rename:
                model.Rename(entry.Name, entry.NewName!);
                return;
            case OperationKind.Delete:
                model.Delete(entry.Name);
                return;
            case OperationKind.SyncDirectory:
                model.SyncDirectory();
                return;
        }

        if (model.FindById(entry.FileId) is not { } inode)
        {
            return;
        }

        switch (entry.Kind)
        {
            case OperationKind.Write:
                Model.Write(inode, (int)entry.Offset, entry.Bytes!, entry.Direct);
                break;
            case OperationKind.Allocate:
                Model.Allocate(inode, (int)entry.Length);
                break;
            case OperationKind.DataSync:
            case OperationKind.FullSync:
                Model.Sync(inode);
                break;
        }
    }

    /// <summary>Replays the <see cref="FlipBit"/>s made after exactly <paramref name="position"/> trace entries.</summary>
    private void ReplayFlips(Model model, int position)
    {
        foreach (var flip in _flips)
        {
            if (flip.Position == position && model.FindById(flip.FileId) is { } inode && flip.Offset < inode.Content.Length)
            {
                Model.FlipBit(inode, flip.Offset, flip.Bit);
            }
        }
    }
}
