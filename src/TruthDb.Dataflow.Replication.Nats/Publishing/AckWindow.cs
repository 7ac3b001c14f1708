using TruthDb.Dataflow.Replication.Nats.Streams;

namespace TruthDb.Dataflow.Replication.Nats.Publishing;

/// <summary>
/// Why a shipping epoch must end: an unknown outcome (retry after reconciling) or a rejection (stop).
/// <paramref name="Lsn"/> is the first LSN of the message concerned.
/// <paramref name="RememberedDuplicate"/>: the server dropped a message as a duplicate of a message id
/// its duplicate window remembers, at a sequence where the stream no longer has it (a purge) or as "in
/// process" (a proposal that was never stored): shipping it again succeeds only once the window has passed.
/// </summary>
internal sealed record WindowFault(bool Rejected, long Lsn, int ErrorCode, string Reason, bool RememberedDuplicate = false);

/// <summary>How one acknowledgement moved the window: the messages, records and payload bytes it added to the acknowledged prefix.</summary>
internal readonly record struct AckProgress(bool Matched, long SentTimestamp, int Messages, long Records, long Bytes);

/// <summary>
/// The messages in flight of one shipping epoch, numbered 1, 2, ... in LSN order: at most
/// <c>capacity</c> of them and <c>maxBytes</c> of their bodies (the backpressure bounds; one message
/// always may be in flight, however large), acknowledged in any order, shipped as a prefix.
/// Message k must be stored at stream sequence S + k (S: the stream's last sequence when the epoch
/// began). <see cref="Acked"/> is the last LSN of the longest prefix of stored messages; only it is
/// ever committed to the cursor. A rejected message becomes a fault when the prefix reaches it (an
/// earlier unknown outcome takes precedence); an unknown outcome faults at once. Thread-safe: the
/// sender, the acknowledgement pump and the watchdog share it.
/// </summary>
internal sealed class AckWindow
{
    private readonly Lock _gate = new();
    private readonly Slot[] _slots;
    private readonly long _maxBytes;
    private long _bytesInFlight;
    private long _acked;
    private long _sent;
    private long _ackedMessages;
    private long _sentMessages;
    private ulong _lastSequence;
    private WindowFault? _fault;
    private TaskCompletionSource _changed = NewSignal();

    public AckWindow(int capacity, long maxBytes)
    {
        _slots = new Slot[capacity];
        _maxBytes = maxBytes;
    }

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

    /// <summary>Bytes of the bodies of the messages in <see cref="InFlight"/>.</summary>
    public long BytesInFlight
    {
        get
        {
            lock (_gate)
            {
                return _bytesInFlight;
            }
        }
    }

    /// <summary>Messages sent and not yet part of the acknowledged prefix.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return (int)(_sentMessages - _ackedMessages);
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
    /// Starts an epoch after LSN <paramref name="acked"/>, in a stream whose last sequence is
    /// <paramref name="lastSequence"/>: empty, no fault.
    /// </summary>
    public void Reset(long acked, ulong lastSequence)
    {
        lock (_gate)
        {
            Array.Clear(_slots);
            _acked = acked;
            _sent = acked;
            _ackedMessages = 0;
            _sentMessages = 0;
            _bytesInFlight = 0;
            _lastSequence = lastSequence;
            _fault = null;
            SignalLocked();
        }
    }

    /// <summary>
    /// True when one more message, of <paramref name="bodyBytes"/> bytes, may be sent; otherwise
    /// <paramref name="changed"/> completes at the next change.
    /// </summary>
    public bool HasRoom(long bodyBytes, out Task changed)
    {
        lock (_gate)
        {
            changed = _changed.Task;
            var inFlight = _sentMessages - _ackedMessages;
            return _fault is null && inFlight < _slots.Length && (inFlight == 0 || _bytesInFlight + bodyBytes <= _maxBytes);
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

    /// <summary>
    /// Records the publish of LSN <paramref name="firstLsn"/> to <paramref name="lastLsn"/> (the next LSNs of the
    /// epoch), <paramref name="bytes"/> of payload in a body of <paramref name="bodyBytes"/>, sent at
    /// <paramref name="timestamp"/>; returns its number in the epoch.
    /// </summary>
    public long Add(long firstLsn, long lastLsn, long bytes, long bodyBytes, long timestamp)
    {
        lock (_gate)
        {
            if (firstLsn != _sent + 1 || lastLsn < firstLsn || _sentMessages - _ackedMessages >= _slots.Length)
            {
                throw new InvalidOperationException($"LSN {firstLsn} to {lastLsn} is not the next message of the window (sent up to LSN {_sent}, acked up to LSN {_acked}).");
            }

            var number = ++_sentMessages;
            _slots[number % _slots.Length] = new Slot { Number = number, FirstLsn = firstLsn, LastLsn = lastLsn, SentTimestamp = timestamp, Bytes = bytes, BodyBytes = bodyBytes };
            _sent = lastLsn;
            _bytesInFlight += bodyBytes;
            return number;
        }
    }

    /// <summary>
    /// The first LSN and send time of the oldest message not yet acknowledged (or answered "in process":
    /// <paramref name="inProcess"/>); false when none is in flight.
    /// </summary>
    public bool TryGetOldestPending(out long firstLsn, out long timestamp, out bool inProcess)
    {
        lock (_gate)
        {
            firstLsn = _acked + 1;
            timestamp = 0;
            inProcess = false;

            // The oldest message without an acknowledgement (the prefix may wait on a rejected slot).
            for (var n = _ackedMessages + 1; n <= _sentMessages; n++)
            {
                ref var slot = ref _slots[n % _slots.Length];
                if (slot.State is SlotState.Pending or SlotState.InProcess)
                {
                    firstLsn = slot.FirstLsn;
                    timestamp = slot.SentTimestamp;
                    inProcess = slot.State == SlotState.InProcess;
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Applies the acknowledgement of message <paramref name="number"/>; stale or repeated ones change nothing.</summary>
    public AckProgress Complete(long number, in AckResult result)
    {
        lock (_gate)
        {
            if (number <= _ackedMessages || number > _sentMessages || _fault is not null)
            {
                return default;
            }

            ref var slot = ref _slots[number % _slots.Length];
            if (slot.Number != number || slot.State != SlotState.Pending)
            {
                return default;
            }

            var sent = slot.SentTimestamp;
            var expected = _lastSequence + (ulong)number;
            switch (result.Kind)
            {
                case AckKind.Stored when result.Sequence != expected:
                    // Not where its predecessors' sequences put it: the stream's numbering is not what
                    // reconciliation found (a replica with another history leads?), or, for a duplicate,
                    // the duplicate window remembers the message at a sequence the stream lost.
                    var what = LsnRange.Span(slot.FirstLsn, slot.LastLsn);
                    _fault = result.Duplicate
                        ? new WindowFault(false, slot.FirstLsn, 0, $"the stream dropped {what} as a duplicate of its message at sequence {result.Sequence}, but the stream's numbering puts it at sequence {expected}: its duplicate window remembers a message it no longer holds there (purged?); retrying until the window has passed", RememberedDuplicate: true)
                        : new WindowFault(false, slot.FirstLsn, 0, $"{what} was acknowledged at stream sequence {result.Sequence}, not at sequence {expected} where the stream's numbering puts it; reconciling");
                    SignalLocked();
                    return new AckProgress(true, sent, 0, 0, 0);
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
                    _fault = new WindowFault(false, slot.FirstLsn, result.ErrorCode, $"the publish of {LsnRange.Span(slot.FirstLsn, slot.LastLsn)} got {result.Description}");
                    SignalLocked();
                    return new AckProgress(true, sent, 0, 0, 0);
            }

            var messages = 0;
            long records = 0;
            long bytes = 0;
            while (_ackedMessages < _sentMessages)
            {
                ref var head = ref _slots[(_ackedMessages + 1) % _slots.Length];
                if (head.State == SlotState.InProcess && StoredAfterLocked(_ackedMessages + 1))
                {
                    // A later message of the epoch is stored: its expected last message id proves its
                    // predecessor was the stream's last message, and so on down to this one.
                    head.State = SlotState.Stored;
                }

                if (head.State == SlotState.Stored)
                {
                    _ackedMessages++;
                    _acked = head.LastLsn;
                    messages++;
                    records += head.LastLsn - head.FirstLsn + 1;
                    bytes += head.Bytes;
                    _bytesInFlight -= head.BodyBytes;
                    head = default;
                    continue;
                }

                if (head.State == SlotState.Rejected)
                {
                    _fault = new WindowFault(true, head.FirstLsn, head.ErrorCode, head.Reason ?? "rejected");
                }

                break;
            }

            if (messages > 0 || _fault is not null)
            {
                SignalLocked();
            }

            return new AckProgress(true, sent, messages, records, bytes);
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

    // True when, after a run of "in process" slots from message n on, the next slot is stored.
    private bool StoredAfterLocked(long n)
    {
        for (var m = n + 1; m <= _sentMessages; m++)
        {
            var state = _slots[m % _slots.Length].State;
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
        public long Number;
        public long FirstLsn;
        public long LastLsn;
        public long SentTimestamp;
        public long Bytes;
        public long BodyBytes;
        public SlotState State;
        public int ErrorCode;
        public string? Reason;
    }
}
