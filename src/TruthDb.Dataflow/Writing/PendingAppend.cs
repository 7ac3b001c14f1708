using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace TruthDb.Dataflow.Writing;

/// <summary>
/// One append on its way to the writer: a private copy of the payload (so the caller may reuse its
/// buffer at once) and the completion the caller awaits. Pooled: after the caller has read the
/// result, the object goes back to the pool, so a steady stream of appends allocates nothing.
/// Completions run their continuations asynchronously, never on the writer thread.
/// </summary>
internal sealed class PendingAppend : IValueTaskSource<long>
{
    // Payloads up to this size keep their buffer with the pooled object; bigger ones rent and return.
    private const int KeptBufferLimit = 64 * 1024;
    private const int PoolLimit = 16 * 1024;

    private static readonly ConcurrentQueue<PendingAppend> Pool = new();
    private static int _pooled;

    private ManualResetValueTaskSourceCore<long> _core = new() { RunContinuationsAsynchronously = true };
    private byte[] _buffer = [];
    private bool _rented;

    /// <summary>The payload copy.</summary>
    public ReadOnlySpan<byte> Payload => _buffer.AsSpan(0, Length);

    /// <summary>Payload length in bytes.</summary>
    public int Length { get; private set; }

    /// <summary>Cancellation registration while the append waits for room.</summary>
    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>When the append was called (a <see cref="System.Diagnostics.Stopwatch"/> timestamp), or 0 when not measured.</summary>
    public long StartedAt { get; private set; }

    /// <summary>The ValueTask the caller awaits.</summary>
    public ValueTask<long> Task => new(this, _core.Version);

    /// <summary>Takes a pooled instance (or a new one) holding a copy of <paramref name="payload"/>, started at <paramref name="startedAt"/>.</summary>
    public static PendingAppend Rent(ReadOnlySpan<byte> payload, long startedAt)
    {
        if (Pool.TryDequeue(out var item))
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
        if (payload.Length > _buffer.Length)
        {
            if (payload.Length <= KeptBufferLimit)
            {
                _buffer = new byte[Math.Max(payload.Length, 256)];
            }
            else
            {
                _buffer = ArrayPool<byte>.Shared.Rent(payload.Length);
                _rented = true;
            }
        }

        payload.CopyTo(_buffer);
        Length = payload.Length;
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

        Length = 0;
    }

    private void Return()
    {
        _core.Reset();
        if (Interlocked.Increment(ref _pooled) <= PoolLimit)
        {
            Pool.Enqueue(this);
        }
        else
        {
            Interlocked.Decrement(ref _pooled);
        }
    }
}
