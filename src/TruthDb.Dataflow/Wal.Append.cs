using System.Diagnostics.CodeAnalysis;
using System.Threading.Tasks.Dataflow;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Writing;

namespace TruthDb.Dataflow;

/// <summary>The append path: admission (backpressure), posting, and triggering batches.</summary>
public sealed partial class Wal
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
    private int _flushRequested;

    /// <summary>
    /// Appends a record and returns its LSN once it is acknowledged under the log's
    /// <see cref="WalOptions.Durability"/>. The payload is copied before this returns, so the caller may
    /// reuse its buffer at once. When <see cref="WalOptions.MaxPendingBytes"/> are pending, waits
    /// asynchronously for room (in call order); <paramref name="ct"/> cancels only that wait: once the
    /// record is handed to the writer it will be written.
    /// </summary>
    /// <exception cref="ArgumentException">The record is larger than a segment can hold.</exception>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    /// <exception cref="WalFaultedException">The log has faulted (from the returned task).</exception>
    /// <exception cref="WalFullException">No space for the segment the record needs (from the returned task).</exception>
    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload, CancellationToken ct = default)
    {
        var size = Admit(payload.Length);
        if (ct.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<long>(ct);
        }

        if (_writer.Fault is { } fault)
        {
            return ValueTask.FromException<long>(FaultedError(fault));
        }

        if (Volatile.Read(ref _waiterCount) == 0 && TryReserve(size))
        {
            var item = PendingAppend.Rent(payload.Span, _metrics.AppendStarted());
            Post(item);
            return item.Task;
        }

        return EnqueueWaiter(PendingAppend.Rent(payload.Span, _metrics.AppendStarted()), ct);
    }

    /// <summary>
    /// Appends a batch of records with one call and one acknowledgement: the records get consecutive
    /// LSNs, in order, and the returned task completes with the first of them once all are
    /// acknowledged under the log's <see cref="WalOptions.Durability"/> (they go into one segment and
    /// are written and synced together). This is the cheap way to append many small records: the
    /// per-append costs (hand-over to the writer, completion, continuation) are paid once per batch,
    /// not per record. The payloads are copied before this returns. Backpressure and
    /// <paramref name="ct"/> behave as in <see cref="AppendAsync"/>, for the whole batch. A crash before
    /// the acknowledgement may keep any prefix of the batch, as it may keep any prefix of separate
    /// appends in flight.
    /// </summary>
    /// <exception cref="ArgumentException">The batch is empty, a record is larger than a segment can hold, or the
    /// records together do not fit in one segment (the message says how much they take and what fits).</exception>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    /// <exception cref="WalFaultedException">The log has faulted (from the returned task).</exception>
    /// <exception cref="WalFullException">No space for the segment the batch needs (from the returned task).</exception>
    public ValueTask<long> AppendBatchAsync(ReadOnlySpan<ReadOnlyMemory<byte>> payloads, CancellationToken ct = default)
    {
        var size = AdmitBatch(payloads);
        if (ct.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<long>(ct);
        }

        if (_writer.Fault is { } fault)
        {
            return ValueTask.FromException<long>(FaultedError(fault));
        }

        var item = PendingAppend.Rent(payloads, size, _metrics.AppendStarted());
        if (Volatile.Read(ref _waiterCount) == 0 && TryReserve(size))
        {
            Post(item);
            return item.Task;
        }

        return EnqueueWaiter(item, ct);
    }

    /// <summary>
    /// Appends a record if there is room right now: false (and nothing appended) when
    /// <see cref="WalOptions.MaxPendingBytes"/> are pending or other appends are waiting for room.
    /// When true, <paramref name="lsn"/> completes like <see cref="AppendAsync"/>'s result.
    /// </summary>
    /// <exception cref="ArgumentException">The record is larger than a segment can hold.</exception>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    public bool TryAppend(ReadOnlyMemory<byte> payload, out ValueTask<long> lsn)
    {
        var size = Admit(payload.Length);
        if (Volatile.Read(ref _waiterCount) != 0 || !TryReserve(size))
        {
            lsn = default;
            return false;
        }

        var item = PendingAppend.Rent(payload.Span, _metrics.AppendStarted());
        Post(item);
        lsn = item.Task;
        return true;
    }

    private long Admit(int length)
    {
        ObjectDisposedException.ThrowIf(_disposal is not null, this);
        if (length > _maxPayload)
        {
            ThrowTooLarge(length, _maxPayload, _options.SegmentSize, "payload");
        }

        return length;
    }

    private int AdmitBatch(ReadOnlySpan<ReadOnlyMemory<byte>> payloads)
    {
        ObjectDisposedException.ThrowIf(_disposal is not null, this);
        if (payloads.IsEmpty)
        {
            throw new ArgumentException("A batch holds at least one record.", nameof(payloads));
        }

        long bytes = 0;
        long framed = 0;
        foreach (var payload in payloads)
        {
            if (payload.Length > _maxPayload)
            {
                ThrowTooLarge(payload.Length, _maxPayload, _options.SegmentSize, nameof(payloads));
            }

            bytes += payload.Length;
            framed += FrameCodec.FrameLength(payload.Length);
        }

        var fits = Math.Min(SegmentLayout.RecordsEnd(_options.SegmentSize) - SegmentLayout.RecordsStart, Array.MaxLength);
        if (framed > fits)
        {
            throw new ArgumentException(
                $"The batch's {payloads.Length} records take {framed} bytes as frames; one segment of {_options.SegmentSize} bytes holds at most {fits} (WalOptions.SegmentSize): split the batch.",
                nameof(payloads));
        }

        return (int)bytes;
    }

    [DoesNotReturn]
    private static void ThrowTooLarge(int length, long maxPayload, long segmentSize, string paramName) => throw new ArgumentException(
        $"The record is {length} bytes; the largest record a segment of {segmentSize} bytes holds is {maxPayload} bytes (WalOptions.SegmentSize).",
        paramName);

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
        Interlocked.Add(ref _pendingBytes, -bytes);
        if (Volatile.Read(ref _waiterCount) != 0)
        {
            AdmitWaiters(all: false);
        }
    }

    private void Post(PendingAppend item)
    {
        if (!_batches.Post(item))
        {
            Interlocked.Add(ref _pendingBytes, -item.Length);
            item.Fail(new ObjectDisposedException(nameof(Wal), $"The write-ahead log in '{Directory}' is disposed."));
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
        while (Volatile.Read(ref _queued) > 0 && Interlocked.CompareExchange(ref _batchOutstanding, 1, 0) == 0)
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
            if (_disposal is not null)
            {
                item.Fail(new ObjectDisposedException(nameof(Wal), $"The write-ahead log in '{Directory}' is disposed."));
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

    private void AdmitWaiters(bool all)
    {
        lock (_waiters)
        {
            AdmitWaitersLocked(all);
        }
    }

    private void AdmitAllWaiters() => AdmitWaiters(all: true);

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
}
