using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace TruthDb.Dataflow.Ipc.Client;

/// <summary>
/// The completion of one <see cref="TruthDbClient.AppendAsync"/> (or of one AppendBatchAsync): the
/// <see cref="ValueTask{TResult}"/> its caller awaits. Pooled: it goes back to the pool when the caller
/// reads the result, never before, so a steady stream of appends allocates no completion objects. Its
/// continuations run where it is completed (the client completes appends on a thread that is free to
/// run them, see <see cref="TruthDbClient"/>'s reply reader), not through another pool hop.
/// </summary>
internal sealed class AppendOperation : IValueTaskSource<long>
{
    private const int PoolLimit = 4096;

    private static readonly ConcurrentQueue<AppendOperation> Pool = new();
    private static int _pooled;

    private ManualResetValueTaskSourceCore<long> _core;

    /// <summary>The ValueTask the caller awaits (once).</summary>
    public ValueTask<long> Task => new(this, _core.Version);

    /// <summary>Takes a pooled instance or makes one.</summary>
    public static AppendOperation Rent()
    {
        if (Pool.TryDequeue(out var operation))
        {
            Interlocked.Decrement(ref _pooled);
            return operation;
        }

        return new AppendOperation();
    }

    /// <summary>Acknowledges the append with <paramref name="lsn"/>; the instance must not be touched afterwards.</summary>
    public void Succeed(long lsn) => _core.SetResult(lsn);

    /// <summary>Fails the append; the instance must not be touched afterwards.</summary>
    public void Fail(Exception error) => _core.SetException(error);

    /// <inheritdoc />
    public long GetResult(short token)
    {
        // Misuse (a second await, or a result read before completion) must not recycle an instance that
        // is still in use: such a call throws here and changes nothing.
        if (token != _core.Version || _core.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            throw new InvalidOperationException("An append's ValueTask is awaited once, after it completes (as every ValueTask).");
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
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

    /// <inheritdoc />
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc />
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
