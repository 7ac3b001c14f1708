using System.Diagnostics;
using TruthDb.Dataflow.Threading;

namespace TruthDb.Dataflow.LogState;

/// <summary>
/// The two published positions (written and durable) and, for each, a signal that wakes the readers
/// waiting for it to move (a reader of durable records is not woken by every write it cannot read
/// yet). The writer thread publishes the written position; the durable one is published by whichever
/// thread ran the sync (the writer, or the flusher of a <see cref="Durability.Written"/> log), one at
/// a time under the writer's sync lock. Both are published only after the data they
/// cover is written (synced); readers never take a lock the writer needs: publishing signals a
/// <see cref="ChangeSignal"/>, which allocates nothing when no reader waits.
/// Invariants (checked in Debug builds): both positions only move forward, and written ≥ durable.
/// </summary>
internal sealed class Watermarks(long initial)
{
    private long _written = initial;
    private long _durable = initial;
    private readonly ChangeSignal _writtenChanged = new();
    private readonly ChangeSignal _durableChanged = new();
    private volatile bool _closed;
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
            _writtenChanged.Signal(always: _closed);
        }
    }

    /// <summary>Publishes the durable position (never moves back; also moves written up to it).</summary>
    public void PublishDurable(long lsn)
    {
        Debug.Assert(lsn >= _durable, "watermarks only move forward");
        if (lsn > _durable)
        {
            var writtenMoved = lsn > _written;
            if (writtenMoved)
            {
                Volatile.Write(ref _written, lsn);
                _mirror?.Written(lsn);
            }

            Volatile.Write(ref _durable, lsn);
            Debug.Assert(_written >= _durable, "written >= durable, in what readers see as in what the mirror says");
            _mirror?.Durable(lsn);
            if (writtenMoved)
            {
                _writtenChanged.Signal(always: _closed);
            }

            _durableChanged.Signal(always: _closed);
        }
    }

    /// <summary>Wakes every waiting reader for good (and marks the mirror closed).</summary>
    public void Close()
    {
        _closed = true;
        _writtenChanged.Signal(always: true);
        _durableChanged.Signal(always: true);
        Interlocked.Exchange(ref _mirror, null)?.Dispose();
    }

    /// <summary>
    /// A task that completes when the written position next moves (or at close). Check the position
    /// after taking the task and before awaiting it, so no publish is missed.
    /// </summary>
    public Task NextWrittenChange() => _writtenChanged.Next();

    /// <summary>Like <see cref="NextWrittenChange"/>, for the durable position.</summary>
    public Task NextDurableChange() => _durableChanged.Next();
}
