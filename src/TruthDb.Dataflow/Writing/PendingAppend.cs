using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace TruthDb.Dataflow.Writing;

/// <summary>
/// One append on its way to the writer: a private copy of its payload (or, for a batch, of its
/// payloads, back to back) so the caller may reuse its buffers at once, and the one completion the
/// caller awaits (the first LSN; a batch's records get consecutive LSNs). Pooled: after the caller has
/// read the result, the object goes back to the pool, so a steady stream of appends allocates
/// nothing. Completions run their continuations asynchronously, never on the writer thread.
/// </summary>
internal sealed class PendingAppend : IValueTaskSource<long>
{
    // Payloads up to this size keep their buffer with the pooled object; bigger ones rent and return.
    private const int KeptBufferLimit = 64 * 1024;
    private const int PoolLimit = 16 * 1024;

    // Record-length arrays up to this many entries stay with the pooled object.
    private const int KeptLengthsLimit = 1024;

    private static readonly ConcurrentQueue<PendingAppend> Pool = new();
    private static int _pooled;

    // The last instance this thread gave back: a producer awaits its append and appends again on the
    // same thread, so most rents take this one without touching the shared pool (no atomics).
    [ThreadStatic]
    private static PendingAppend? _lastReturned;

    private ManualResetValueTaskSourceCore<long> _core = new() { RunContinuationsAsynchronously = true };
    private byte[] _buffer = [];
    private bool _rented;
    private int[] _lengths = new int[1];
    private bool _lengthsRented;

    /// <summary>The payload copies, back to back.</summary>
    public ReadOnlySpan<byte> Payload => _buffer.AsSpan(0, Length);

    /// <summary>Payload bytes in all (the sum of <see cref="Lengths"/>).</summary>
    public int Length { get; private set; }

    /// <summary>How many records: 1 for a single append.</summary>
    public int Count { get; private set; }

    /// <summary>Each record's payload length, in order.</summary>
    public ReadOnlySpan<int> Lengths => _lengths.AsSpan(0, Count);

    /// <summary>The bytes the records take as frames (<see cref="Format.FrameCodec.FrameLength"/> each).</summary>
    public long FramedLength { get; private set; }

    /// <summary>Cancellation registration while the append waits for room.</summary>
    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>When the append was called (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), or 0 when not measured.</summary>
    public long StartedAt { get; private set; }

    /// <summary>The ValueTask the caller awaits.</summary>
    public ValueTask<long> Task => new(this, _core.Version);

    /// <summary>Takes a pooled instance (or a new one) holding a copy of <paramref name="payload"/>, started at <paramref name="startedAt"/>.</summary>
    public static PendingAppend Rent(ReadOnlySpan<byte> payload, long startedAt)
    {
        var item = _lastReturned;
        if (item is not null)
        {
            _lastReturned = null;
        }
        else if (Pool.TryDequeue(out item))
        {
            Interlocked.Decrement(ref _pooled);
        }
        else
        {
            item = new PendingAppend();
        }

        item.SetPayload(payload);
        item.StartedAt = startedAt;
        return item;
    }

    /// <summary>Like <see cref="Rent(ReadOnlySpan{byte}, long)"/>, for a batch: copies of <paramref name="payloads"/> (at least one), <paramref name="totalLength"/> bytes in all.</summary>
    public static PendingAppend Rent(ReadOnlySpan<ReadOnlyMemory<byte>> payloads, int totalLength, long startedAt)
    {
        var item = Rent(ReadOnlySpan<byte>.Empty, startedAt);
        item.SetPayloads(payloads, totalLength);
        return item;
    }

    /// <summary>Acknowledges the append with its LSN.</summary>
    public void Succeed(long lsn)
    {
        ReleasePayload();
        _core.SetResult(lsn);
    }

    /// <summary>Fails the append.</summary>
    public void Fail(Exception error)
    {
        ReleasePayload();
        _core.SetException(error);
    }

    /// <inheritdoc />
    public long GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Return();
        }
    }

    /// <inheritdoc />
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc />
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void SetPayload(ReadOnlySpan<byte> payload)
    {
        EnsureBuffer(payload.Length);

        payload.CopyTo(_buffer);
        Length = payload.Length;
        Count = 1;
        _lengths[0] = payload.Length;
        FramedLength = Format.FrameCodec.FrameLength(payload.Length);
    }

    private void SetPayloads(ReadOnlySpan<ReadOnlyMemory<byte>> payloads, int totalLength)
    {
        EnsureBuffer(totalLength);
        if (payloads.Length > _lengths.Length)
        {
            if (payloads.Length <= KeptLengthsLimit)
            {
                _lengths = new int[Math.Max(payloads.Length, 16)];
            }
            else
            {
                _lengths = ArrayPool<int>.Shared.Rent(payloads.Length);
                _lengthsRented = true;
            }
        }

        var offset = 0;
        long framed = 0;
        for (var i = 0; i < payloads.Length; i++)
        {
            var payload = payloads[i].Span;
            payload.CopyTo(_buffer.AsSpan(offset));
            offset += payload.Length;
            _lengths[i] = payload.Length;
            framed += Format.FrameCodec.FrameLength(payload.Length);
        }

        Length = totalLength;
        Count = payloads.Length;
        FramedLength = framed;
    }

    private void EnsureBuffer(int length)
    {
        if (length > _buffer.Length)
        {
            if (length <= KeptBufferLimit)
            {
                _buffer = new byte[Math.Max(length, 256)];
            }
            else
            {
                _buffer = ArrayPool<byte>.Shared.Rent(length);
                _rented = true;
            }
        }
    }

    private void ReleasePayload()
    {
        Registration.Dispose();
        Registration = default;
        if (_rented)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _rented = false;
        }

        if (_lengthsRented)
        {
            ArrayPool<int>.Shared.Return(_lengths);
            _lengths = new int[1];
            _lengthsRented = false;
        }

        Length = 0;
        Count = 0;
    }

    private void Return()
    {
        _core.Reset();
        if (_lastReturned is null)
        {
            _lastReturned = this;
        }
        else if (Interlocked.Increment(ref _pooled) <= PoolLimit)
        {
            Pool.Enqueue(this);
        }
        else
        {
            Interlocked.Decrement(ref _pooled);
        }
    }
}
