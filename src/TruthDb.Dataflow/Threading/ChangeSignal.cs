namespace TruthDb.Dataflow.Threading;

/// <summary>
/// Wakes the tasks waiting for the next change of something one side publishes and others watch
/// (the writer's watermarks; the file system's change notifications for a reader in another process).
/// A waiter takes <see cref="Next"/> before it looks at what it waits for, then awaits the task; the
/// publisher stores what changed, then calls <see cref="Signal"/>. Signalling swaps in a fresh
/// completion source and completes the old one only when a waiter has asked for it since the last
/// swap, so a change nobody waits for allocates nothing. Continuations run asynchronously: never on
/// the publisher's thread.
/// </summary>
internal sealed class ChangeSignal
{
    private TaskCompletionSource _changed = NewSignal();
    private int _awaited;

    /// <summary>A task that completes at the next <see cref="Signal"/>. Look at what is awaited after taking it, then await it: no change is missed.</summary>
    public Task Next()
    {
        // Say so before taking the task, with a full fence: a publisher that then finds the flag clear
        // has cleared it before this waiter looks, so the waiter sees what that publisher stored.
        Interlocked.Exchange(ref _awaited, 1);
        return Volatile.Read(ref _changed).Task;
    }

    /// <summary>Completes the task waiters took, if any did (always when <paramref name="always"/>); call after storing the change.</summary>
    public void Signal(bool always = false)
    {
        if (Interlocked.Exchange(ref _awaited, 0) != 0 || always)
        {
            Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
