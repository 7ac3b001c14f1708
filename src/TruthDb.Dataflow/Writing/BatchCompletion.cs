using System.Collections.Concurrent;

namespace TruthDb.Dataflow.Writing;

/// <summary>
/// Acknowledges the appends of one written (and, under <see cref="Durability.Sync"/>, synced) batch
/// from the thread pool, so that the writer pays one hand-off per batch instead of one per append: it
/// queues this work item and goes on with the next batch, and a pool thread completes each append
/// there. Each completion still runs its caller's continuation as a work item of its own
/// (<see cref="PendingAppend"/> runs continuations asynchronously), so continuations run in parallel,
/// never on the writer thread, and a slow one holds up no other acknowledgement.
/// </summary>
/// <remarks>
/// A lone append is completed directly (queuing this first would cost one more hand-off). Pooled: a
/// steady stream of batches allocates nothing.
/// </remarks>
internal sealed class BatchCompletion : IThreadPoolWorkItem
{
    private static readonly ConcurrentQueue<BatchCompletion> Pool = new();

    private PendingAppend[] _batch = [];
    private int _start;
    private int _count;
    private long _firstLsn;

    /// <summary>
    /// Acknowledges <paramref name="count"/> appends of <paramref name="batch"/> from
    /// <paramref name="start"/>, whose records start at <paramref name="firstLsn"/> (each append's
    /// <see cref="PendingAppend.Count"/> records get consecutive LSNs). The caller hands those entries
    /// of the array over: it must not touch them again.
    /// </summary>
    public static void Succeed(PendingAppend[] batch, int start, int count, long firstLsn)
    {
        if (count == 1)
        {
            batch[start].Succeed(firstLsn);
            return;
        }

        if (!Pool.TryDequeue(out var completion))
        {
            completion = new BatchCompletion();
        }

        completion._batch = batch;
        completion._start = start;
        completion._count = count;
        completion._firstLsn = firstLsn;
        ThreadPool.UnsafeQueueUserWorkItem(completion, preferLocal: false);
    }

    /// <inheritdoc />
    public void Execute()
    {
        var lsn = _firstLsn;
        var end = _start + _count;
        for (var i = _start; i < end; i++)
        {
            // Read the count first: a completed append may be reused at once.
            var item = _batch[i];
            var records = item.Count;
            item.Succeed(lsn);
            lsn += records;
        }

        _batch = [];
        Pool.Enqueue(this);
    }
}
