using System.Diagnostics;

namespace TruthDb.Dataflow.LogState;

/// <summary>
/// The two published positions (written and durable) and a signal that wakes readers waiting for
/// either to move. Only the writer publishes, always after the data a position covers; readers
/// never take a lock the writer needs: publishing swaps a completion source and completes it, and
/// only when a reader has asked for it since the last swap, so a log nobody waits on allocates
/// nothing per publish.
/// Invariants (checked in Debug builds): both positions only move forward, and written ≥ durable.
/// </summary>
internal sealed class Watermarks(long initial)
{
    private long _written = initial;
    private long _durable = initial;
    private TaskCompletionSource _changed = NewSignal();
    private volatile bool _closed;
    private int _awaited;
    private MirrorPublisher? _mirror;

    /// <summary>The last LSN whose write returned.</summary>
    public long Written => Volatile.Read(ref _written);

    /// <summary>The last LSN covered by a completed fdatasync.</summary>
    public long Durable => Volatile.Read(ref _durable);

    /// <summary>True once the log is disposed: waiting readers end.</summary>
    public bool IsClosed => _closed;

    /// <summary>Mirrors every publish into <paramref name="mirror"/> too, for readers in other processes.</summary>
    public void MirrorTo(MirrorPublisher mirror) => _mirror = mirror;

    /// <summary>Publishes the written position (never moves back).</summary>
    public void PublishWritten(long lsn)
    {
        Debug.Assert(lsn >= _written, "watermarks only move forward");
        if (lsn > _written)
        {
            Volatile.Write(ref _written, lsn);
            _mirror?.Written(lsn);
            Signal();
        }
    }

    /// <summary>Publishes the durable position (never moves back; also moves written up to it).</summary>
    public void PublishDurable(long lsn)
    {
        Debug.Assert(lsn >= _durable, "watermarks only move forward");
        if (lsn > _durable)
        {
            if (lsn > _written)
            {
                Volatile.Write(ref _written, lsn);
                _mirror?.Written(lsn);
            }

            Volatile.Write(ref _durable, lsn);
            Debug.Assert(_written >= _durable, "written >= durable, in what readers see as in what the mirror says");
            _mirror?.Durable(lsn);
            Signal();
        }
    }

    /// <summary>Wakes every waiting reader for good (and marks the mirror closed).</summary>
    public void Close()
    {
        _closed = true;
        Signal();
        Interlocked.Exchange(ref _mirror, null)?.Dispose();
    }

    /// <summary>
    /// A task that completes at the next publish (or close). Check the position after taking the task
    /// and before awaiting it, so no publish is missed.
    /// </summary>
    public Task NextChange()
    {
        // Say so before taking the task, with a full fence: a publisher that then finds the flag clear
        // has cleared it before this reader looks at the position, so the reader sees that publish.
        Interlocked.Exchange(ref _awaited, 1);
        return Volatile.Read(ref _changed).Task;
    }

    // Publishers call this after storing the position they publish.
    private void Signal()
    {
        if (Interlocked.Exchange(ref _awaited, 0) != 0 || _closed)
        {
            Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
