namespace TruthDb.Dataflow.Replication.Nats.Publishing;

/// <summary>
/// Why a shipping epoch must end: an unknown outcome (retry after reconciling) or a rejection (stop).
/// <paramref name="RememberedDuplicate"/>: the server dropped a record as a duplicate of a message id
/// its duplicate window remembers, at a sequence where the stream no longer has it (a purge) or as "in
/// process" (a proposal that was never stored): shipping it again succeeds only once the window has passed.
/// </summary>
internal sealed record WindowFault(bool Rejected, long Lsn, int ErrorCode, string Reason, bool RememberedDuplicate = false);

/// <summary>How one acknowledgement moved the window.</summary>
internal readonly record struct AckProgress(bool Matched, long SentTimestamp, int Records, long Bytes);

/// <summary>
/// The publishes in flight of one shipping epoch, in LSN order: at most <c>capacity</c> of them
/// (the backpressure bound), acknowledged in any order, shipped as a prefix. <see cref="Acked"/> is
/// the highest LSN such that it and every LSN before it in the epoch were stored; only it is ever
/// committed to the cursor. A rejected publish becomes a fault when the prefix reaches it (an earlier
/// unknown outcome takes precedence); an unknown outcome faults at once. Thread-safe: the sender,
/// the acknowledgement pump and the watchdog share it.
/// </summary>
internal sealed class AckWindow
{
    private readonly Lock _gate = new();
    private readonly Slot[] _slots;
    private long _acked;
    private long _sent;
    private long _sequenceOffset;
    private WindowFault? _fault;
    private TaskCompletionSource _changed = NewSignal();

    public AckWindow(int capacity) => _slots = new Slot[capacity];

    /// <summary>Every LSN up to this one is stored in the stream.</summary>
    public long Acked
    {
        get
        {
            lock (_gate)
            {
                return _acked;
            }
        }
    }

    /// <summary>The last LSN sent in the epoch (the epoch's start before the first).</summary>
    public long Sent
    {
        get
        {
            lock (_gate)
            {
                return _sent;
            }
        }
    }

    /// <summary>Publishes sent and not yet part of the acknowledged prefix.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return (int)(_sent - _acked);
            }
        }
    }

    /// <summary>Why the epoch must end; null while it goes on.</summary>
    public WindowFault? Fault
    {
        get
        {
            lock (_gate)
            {
                return _fault;
            }
        }
    }

    /// <summary>
    /// Starts an epoch after <paramref name="acked"/>: empty, no fault. Every record the epoch stores
    /// must be acknowledged at stream sequence LSN + <paramref name="sequenceOffset"/> (the stream's last
    /// sequence minus its last LSN, as reconciliation found them).
    /// </summary>
    public void Reset(long acked, long sequenceOffset)
    {
        lock (_gate)
        {
            Array.Clear(_slots);
            _acked = acked;
            _sent = acked;
            _sequenceOffset = sequenceOffset;
            _fault = null;
            SignalLocked();
        }
    }

    /// <summary>True when one more publish may be sent; otherwise <paramref name="changed"/> completes at the next change.</summary>
    public bool HasRoom(out Task changed)
    {
        lock (_gate)
        {
            changed = _changed.Task;
            return _fault is null && _sent - _acked < _slots.Length;
        }
    }

    /// <summary>A task that completes at the next change (an acknowledgement, a fault, a reset).</summary>
    public Task Changed()
    {
        lock (_gate)
        {
            return _changed.Task;
        }
    }

    /// <summary>Records the publish of <paramref name="lsn"/> (the next LSN of the epoch), sent at <paramref name="timestamp"/>.</summary>
    public void Add(long lsn, int bytes, long timestamp)
    {
        lock (_gate)
        {
            if (lsn != _sent + 1 || _sent - _acked >= _slots.Length)
            {
                throw new InvalidOperationException($"LSN {lsn} is not the next publish of the window (sent {_sent}, acked {_acked}).");
            }

            _slots[lsn % _slots.Length] = new Slot { Lsn = lsn, SentTimestamp = timestamp, Bytes = bytes };
            _sent = lsn;
        }
    }

    /// <summary>
    /// The send time of the oldest publish not yet acknowledged (or answered "in process": <paramref name="inProcess"/>);
    /// false when none is in flight.
    /// </summary>
    public bool TryGetOldestPending(out long lsn, out long timestamp, out bool inProcess)
    {
        lock (_gate)
        {
            lsn = _acked + 1;
            timestamp = 0;
            inProcess = false;
            if (_sent <= _acked)
            {
                return false;
            }

            // The oldest publish without an acknowledgement (the prefix may wait on a rejected slot).
            for (var l = _acked + 1; l <= _sent; l++)
            {
                ref var slot = ref _slots[l % _slots.Length];
                if (slot.State is SlotState.Pending or SlotState.InProcess)
                {
                    lsn = l;
                    timestamp = slot.SentTimestamp;
                    inProcess = slot.State == SlotState.InProcess;
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Applies the acknowledgement of <paramref name="lsn"/>; stale or repeated ones change nothing.</summary>
    public AckProgress Complete(long lsn, in AckResult result)
    {
        lock (_gate)
        {
            if (lsn <= _acked || lsn > _sent || _fault is not null)
            {
                return default;
            }

            ref var slot = ref _slots[lsn % _slots.Length];
            if (slot.Lsn != lsn || slot.State != SlotState.Pending)
            {
                return default;
            }

            var sent = slot.SentTimestamp;
            switch (result.Kind)
            {
                case AckKind.Stored when (long)result.Sequence != lsn + _sequenceOffset:
                    // Not where its predecessors' sequences put it: the stream's numbering is not what
                    // reconciliation found (a replica with another history leads?), or, for a duplicate,
                    // the duplicate window remembers the record at a sequence the stream lost.
                    _fault = result.Duplicate
                        ? new WindowFault(false, lsn, 0, $"the stream dropped LSN {lsn} as a duplicate of its message at sequence {result.Sequence}, but the stream's numbering puts LSN {lsn} at sequence {lsn + _sequenceOffset}: its duplicate window remembers a message it no longer holds there (purged?); retrying until the window has passed", RememberedDuplicate: true)
                        : new WindowFault(false, lsn, 0, $"LSN {lsn} was acknowledged at stream sequence {result.Sequence}, not at sequence {lsn + _sequenceOffset} where the stream's numbering puts it; reconciling");
                    SignalLocked();
                    return new AckProgress(true, sent, 0, 0);
                case AckKind.Stored:
                    slot.State = SlotState.Stored;
                    break;
                case AckKind.InProcess:
                    slot.State = SlotState.InProcess;
                    break;
                case AckKind.Rejected:
                    slot.State = SlotState.Rejected;
                    slot.ErrorCode = result.ErrorCode;
                    slot.Reason = result.Description;
                    break;
                default:
                    _fault = new WindowFault(false, lsn, result.ErrorCode, $"the publish of LSN {lsn} got {result.Description}");
                    SignalLocked();
                    return new AckProgress(true, sent, 0, 0);
            }

            var records = 0;
            long bytes = 0;
            while (_acked < _sent)
            {
                ref var head = ref _slots[(_acked + 1) % _slots.Length];
                if (head.State == SlotState.InProcess && StoredAfterLocked(_acked + 1))
                {
                    // A later record of the epoch is stored: its expected last message id proves its
                    // predecessor was the stream's last message, and so on down to this one.
                    head.State = SlotState.Stored;
                }

                if (head.State == SlotState.Stored)
                {
                    _acked++;
                    records++;
                    bytes += head.Bytes;
                    head = default;
                    continue;
                }

                if (head.State == SlotState.Rejected)
                {
                    _fault = new WindowFault(true, head.Lsn, head.ErrorCode, head.Reason ?? "rejected");
                }

                break;
            }

            if (records > 0 || _fault is not null)
            {
                SignalLocked();
            }

            return new AckProgress(true, sent, records, bytes);
        }
    }

    /// <summary>Ends the epoch with <paramref name="fault"/> unless it already has one.</summary>
    public void Fail(WindowFault fault)
    {
        lock (_gate)
        {
            if (_fault is null)
            {
                _fault = fault;
                SignalLocked();
            }
        }
    }

    // True when, after a run of "in process" slots from lsn on, the next slot is stored.
    private bool StoredAfterLocked(long lsn)
    {
        for (var l = lsn + 1; l <= _sent; l++)
        {
            var state = _slots[l % _slots.Length].State;
            if (state != SlotState.InProcess)
            {
                return state == SlotState.Stored;
            }
        }

        return false;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void SignalLocked()
    {
        var changed = _changed;
        _changed = NewSignal();
        changed.TrySetResult();
    }

    private enum SlotState : byte
    {
        Pending,
        Stored,
        Rejected,
        InProcess,
    }

    private struct Slot
    {
        public long Lsn;
        public long SentTimestamp;
        public int Bytes;
        public SlotState State;
        public int ErrorCode;
        public string? Reason;
    }
}
