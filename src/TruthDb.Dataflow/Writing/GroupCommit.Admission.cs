using System.Diagnostics;
using System.Threading.Tasks.Dataflow;

namespace TruthDb.Dataflow.Writing;

/// <summary>Admission (backpressure), posting, and triggering batches: the producers' side of group commit.</summary>
internal sealed partial class GroupCommit
{
    // Appends waiting for room, in call order. While any waits, new appends queue behind them, so
    // appends issued one after another by one caller get increasing LSNs even when some had to wait.
    // The counters below are handed between producers and the writer without locks in a
    // "publish, then look" pattern on both sides; every publish is an Interlocked operation (a full
    // fence), because a plain store may pass the following load and both sides would miss each other.
    private readonly LinkedList<PendingAppend> _waiters = new();
    private int _waiterCount;
    private long _pendingBytes;
    private long _queued;
    private int _batchOutstanding;

    /// <summary>Hands one record over (the caller checked its size); completes with its LSN once acknowledged.</summary>
    public ValueTask<long> AppendAsync(ReadOnlySpan<byte> payload, CancellationToken ct)
    {
        if (ct.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<long>(ct);
        }

        if (_writer.Fault is { } fault)
        {
            return ValueTask.FromException<long>(_writer.FaultedError(fault));
        }

        if (Volatile.Read(ref _waiterCount) == 0 && TryReserve(payload.Length))
        {
            var item = PendingAppend.Rent(payload, _events.AppendStarted());
            Post(item);
            return item.Task;
        }

        return EnqueueWaiter(PendingAppend.Rent(payload, _events.AppendStarted()), ct);
    }

    /// <summary>Hands a batch of records over (the caller checked it: <paramref name="size"/> payload bytes, fits a segment); completes with the first LSN.</summary>
    public ValueTask<long> AppendBatchAsync(ReadOnlySpan<ReadOnlyMemory<byte>> payloads, int size, CancellationToken ct)
    {
        if (ct.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<long>(ct);
        }

        if (_writer.Fault is { } fault)
        {
            return ValueTask.FromException<long>(_writer.FaultedError(fault));
        }

        var item = PendingAppend.Rent(payloads, size, _events.AppendStarted());
        if (Volatile.Read(ref _waiterCount) == 0 && TryReserve(size))
        {
            Post(item);
            return item.Task;
        }

        return EnqueueWaiter(item, ct);
    }

    /// <summary>Hands one record over if there is room right now (no append waits and the bound allows it).</summary>
    public bool TryAppend(ReadOnlySpan<byte> payload, out ValueTask<long> lsn)
    {
        if (Volatile.Read(ref _waiterCount) != 0 || !TryReserve(payload.Length))
        {
            lsn = default;
            return false;
        }

        var item = PendingAppend.Rent(payload, _events.AppendStarted());
        Post(item);
        lsn = item.Task;
        return true;
    }

    private bool TryReserve(long size)
    {
        var current = Volatile.Read(ref _pendingBytes);
        while (true)
        {
            // One record may always go when nothing is pending, even if it is bigger than the bound.
            if (current > 0 && current + size > _options.MaxPendingBytes)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _pendingBytes, current + size, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }

    private void Release(long bytes)
    {
        var pending = Interlocked.Add(ref _pendingBytes, -bytes);
        Debug.Assert(pending >= 0, "bytes are released once, after they were reserved");
        if (Volatile.Read(ref _waiterCount) != 0)
        {
            AdmitWaiters();
        }
    }

    private void Post(PendingAppend item)
    {
        if (!_batches.Post(item))
        {
            Interlocked.Add(ref _pendingBytes, -item.Length);
            item.Fail(Disposed());
            return;
        }

        Interlocked.Increment(ref _queued);
        TryTrigger();
    }

    // Sends what is pending to the writer unless a batch is already outstanding (triggered and not
    // yet finished by the writer). Whoever sets _batchOutstanding triggers, and only when _queued says
    // appends are waiting in the block: since only the holder triggers and the writer clears the flag
    // after the batch, no other batch is in flight then, so the trigger cannot come out empty (an
    // empty trigger would leave the flag set with nothing to clear it). Posts count themselves after
    // posting, and the writer looks again after clearing the flag, so no append is left behind.
    private void TryTrigger()
    {
        // Reads the flag before trying to take it: while a batch is outstanding (most of the time under
        // load) an append costs no write to the flag's cache line.
        while (Volatile.Read(ref _queued) > 0 && Volatile.Read(ref _batchOutstanding) == 0 && Interlocked.CompareExchange(ref _batchOutstanding, 1, 0) == 0)
        {
            if (Volatile.Read(ref _queued) > 0)
            {
                Trigger();
                return;
            }

            Interlocked.Exchange(ref _batchOutstanding, 0);
        }
    }

    // Sends what is pending to the writer: at once, or after MaxBatchDelay when one is set.
    private void Trigger()
    {
        if (_delayTimer is null)
        {
            _batches.TriggerBatch();
        }
        else
        {
            _delayTimer.Change(_options.MaxBatchDelay, Timeout.InfiniteTimeSpan);
        }
    }

    private void DelayElapsed() => _batches.TriggerBatch();

    private ValueTask<long> EnqueueWaiter(PendingAppend item, CancellationToken ct)
    {
        lock (_waiters)
        {
            if (_closing)
            {
                item.Fail(Disposed());
                return item.Task;
            }

            var node = _waiters.AddLast(item);
            Interlocked.Exchange(ref _waiterCount, _waiters.Count);
            if (ct.CanBeCanceled)
            {
                item.Registration = ct.UnsafeRegister(_ => CancelWaiter(node, ct), null);
            }

            // The writer may have released room before this append was queued: look again.
            AdmitWaitersLocked(all: false);
        }

        return item.Task;
    }

    private void CancelWaiter(LinkedListNode<PendingAppend> node, CancellationToken ct)
    {
        lock (_waiters)
        {
            if (node.List is null)
            {
                return;
            }

            _waiters.Remove(node);
            Interlocked.Exchange(ref _waiterCount, _waiters.Count);
        }

        node.Value.Fail(new OperationCanceledException("The append was cancelled while it waited for room; it was not written.", ct));
    }

    private void AdmitWaiters()
    {
        lock (_waiters)
        {
            AdmitWaitersLocked(all: false);
        }
    }

    private void AdmitWaitersLocked(bool all)
    {
        while (_waiters.First is { } first)
        {
            var item = first.Value;
            if (all)
            {
                Interlocked.Add(ref _pendingBytes, item.Length);
            }
            else if (!TryReserve(item.Length))
            {
                return;
            }

            _waiters.RemoveFirst();
            Interlocked.Exchange(ref _waiterCount, _waiters.Count);

            // Unregister, not Dispose: Dispose would wait for a cancel callback blocked on this lock.
            item.Registration.Unregister();
            Post(item);
        }
    }

    private ObjectDisposedException Disposed() => new("Wal", $"The write-ahead log in '{_directory}' is disposed.");
}
