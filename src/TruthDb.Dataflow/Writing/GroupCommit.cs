using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using Microsoft.Extensions.Logging;
using TruthDb.Dataflow.LogState;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Threading;

namespace TruthDb.Dataflow.Writing;

/// <summary>
/// Group commit: everything between the producers and the writer thread, owned in one place — the
/// admission bound and the appends waiting for room (<c>GroupCommit.Admission.cs</c>), the Dataflow
/// blocks, the trigger, the linger, the batch delay, the flush requests and timer, the writer thread,
/// the flusher thread, and the <see cref="LogWriter"/> that writes and syncs on them.
/// </summary>
/// <remarks>
/// Pipeline: an append copies the payload and posts it into a <c>BatchBlock</c>; an
/// <c>ActionBlock</c> with a synchronous delegate (the block's fast path: one consumer, unbounded
/// input) runs on a dedicated, named writer thread (<see cref="WriterThreadName"/>). Batches adapt:
/// when the writer is idle a lone append is sent at once (<c>TriggerBatch</c>); while it writes and
/// syncs, appends gather and the next batch takes all of them (written in groups of at most
/// <see cref="WalOptions.MaxBatchRecords"/>). Exactly one batch is outstanding at a time, and only its
/// holder triggers the next, so a trigger never comes out empty (see <c>TryTrigger</c>).
/// Pending work is bounded by <see cref="WalOptions.MaxPendingBytes"/> in front of the block, because
/// a bounded block would drop the fast path and could not keep waiting producers in call order.
/// Only the writer thread writes through the <see cref="LogWriter"/>: batches, retention and the final
/// close all run there. Under <see cref="Durability.Written"/> the syncs that move the durable
/// watermark (every <see cref="WalOptions.FlushInterval"/>, and <see cref="FlushAsync"/>) run on a
/// thread of their own (<see cref="FlusherThreadName"/>) while the writer goes on writing: a sync
/// of a flush interval's worth of writes takes milliseconds, and on the writer thread every append
/// would wait behind it. Under <see cref="Durability.Sync"/> every batch is synced by the writer
/// itself, and a flush waits for it there.
/// </remarks>
internal sealed partial class GroupCommit : IAsyncDisposable
{
    /// <summary>The name of the writer thread.</summary>
    public const string WriterThreadName = "TruthDb.Dataflow.Writer";

    /// <summary>The name of the thread that runs the syncs of a <see cref="Durability.Written"/> log.</summary>
    public const string FlusherThreadName = "TruthDb.Dataflow.Flusher";

    private readonly WalOptions _options;
    private readonly string _directory;
    private readonly Watermarks _watermarks;
    private readonly WriterEvents _events;
    private readonly DedicatedThreadScheduler _scheduler;
    private readonly DedicatedThreadScheduler? _flusher;
    private readonly LogWriter _writer;
    private readonly BatchBlock<PendingAppend> _batches;
    private readonly ActionBlock<PendingAppend[]> _writes;
    private readonly Timer? _flushTimer;
    private readonly Timer? _delayTimer;
    private volatile bool _closing;
    private int _flushQueued;

    /// <summary>Takes over the recovered log and starts the writer thread.</summary>
    public GroupCommit(IWalStorage storage, WalOptions options, ILogger logger, RecoveredLog recovered, LogView view, Watermarks watermarks, SegmentCatalog catalog, Func<long?> slowestCursor, IWriterListener listener)
    {
        _options = options;
        _directory = storage.DirectoryPath;
        _watermarks = watermarks;
        _events = new WriterEvents(listener);
        _scheduler = new DedicatedThreadScheduler(WriterThreadName);
        _writer = new LogWriter(storage, options, logger, recovered, view, watermarks, _events, catalog, slowestCursor, _scheduler);

        // Batches leave the block only through TriggerBatch (its size bound is never reached). The
        // block hands a batch to its target on a task of its scheduler: the writer's, so a batch the
        // writer triggers itself goes on without leaving its thread, and one a producer triggers costs
        // one wake of the writer (on the thread pool it would cost a pool hop and then that wake).
        _batches = new BatchBlock<PendingAppend>(int.MaxValue, new GroupingDataflowBlockOptions { TaskScheduler = _scheduler });
        _writes = new ActionBlock<PendingAppend[]>(
            WriteBatch,
            new ExecutionDataflowBlockOptions { TaskScheduler = _scheduler, MaxDegreeOfParallelism = 1 });
        _batches.LinkTo(_writes, new DataflowLinkOptions { PropagateCompletion = true });
        if (options.Durability == Durability.Written)
        {
            _flusher = new DedicatedThreadScheduler(FlusherThreadName);
            _flushTimer = new Timer(static s => ((GroupCommit)s!).RequestFlush(), this, options.FlushInterval, options.FlushInterval);
        }

        if (options.MaxBatchDelay > TimeSpan.Zero)
        {
            _delayTimer = new Timer(static s => ((GroupCommit)s!).DelayElapsed(), this, Timeout.Infinite, Timeout.Infinite);
        }
    }

    /// <summary>The first IO error, once the writer has faulted. Any thread.</summary>
    public Exception? Fault => _writer.Fault;

    /// <summary>A snapshot of the writer's counters and the queue, for a log of <paramref name="segments"/> segments.</summary>
    public WalStatistics Statistics(int segments) =>
        _events.Snapshot(Interlocked.Read(ref _pendingBytes), Math.Max(0, Volatile.Read(ref _queued)) + Volatile.Read(ref _waiterCount), segments);

    /// <summary>
    /// Makes every record written so far durable (one fdatasync: on the flusher thread under
    /// <see cref="Durability.Written"/>, while the writer goes on; on the writer thread, between batches,
    /// under <see cref="Durability.Sync"/>) and returns the durable LSN.
    /// </summary>
    public ValueTask<long> FlushAsync(CancellationToken ct)
    {
        if (_writer.Fault is { } fault)
        {
            return ValueTask.FromException<long>(_writer.FaultedError(fault));
        }

        if (_watermarks.Durable >= _watermarks.Written)
        {
            return ValueTask.FromResult(_watermarks.Durable);
        }

        return new ValueTask<long>(Task.Factory.StartNew(FlushAndReport, ct, TaskCreationOptions.None, _flusher ?? _scheduler));
    }

    /// <summary>Retention: drops the sealed segments whose records are all below <paramref name="lsn"/>, on the writer thread between batches (the segment list is the writer's).</summary>
    public Task TruncateBeforeAsync(long lsn, CancellationToken ct) =>
        Task.Factory.StartNew(() => _writer.TruncateBefore(lsn), ct, TaskCreationOptions.None, _scheduler);

    /// <summary>
    /// Stops accepting appends, writes and syncs everything already accepted (appends waiting for room
    /// included), then closes the writer on its thread and ends the thread. Call once.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        lock (_waiters)
        {
            _closing = true;
            AdmitWaitersLocked(all: true);
        }

        _batches.Complete();
        await _writes.Completion.ConfigureAwait(false);
        if (_flushTimer is not null)
        {
            await _flushTimer.DisposeAsync().ConfigureAwait(false);
        }

        // Runs the flushes already queued and ends the flusher, before the writer's final sync and close.
        _flusher?.Dispose();

        if (_delayTimer is not null)
        {
            await _delayTimer.DisposeAsync().ConfigureAwait(false);
        }

        // The final sync and close run on the writer thread too, like every other write-path IO.
        await Task.Factory.StartNew(_writer.Dispose, CancellationToken.None, TaskCreationOptions.None, _scheduler).ConfigureAwait(false);
        _scheduler.Dispose();
    }

    // Runs on the writer thread.
    private void WriteBatch(PendingAppend[] batch)
    {
        // A batch leaves the block only when its holder triggered it, or when the block completes at close.
        Debug.Assert(Volatile.Read(ref _batchOutstanding) == 1 || _closing, "a batch was written that nobody triggered");
        // A post counts itself after posting, so the writer may take an append before it is counted:
        // _queued can be below zero for a moment, never for long.
        Interlocked.Add(ref _queued, -batch.Length);
        var started = Stopwatch.GetTimestamp();
        for (var start = 0; start < batch.Length; start += _options.MaxBatchRecords)
        {
            var length = Math.Min(_options.MaxBatchRecords, batch.Length - start);
            long bytes = 0;
            foreach (var item in batch.AsSpan(start, length))
            {
                bytes += item.Length;
            }

            _writer.Write(batch, start, length);
            Release(bytes);
        }

        Linger(batch.Length, Stopwatch.GetElapsedTime(started));

        // This batch is done: let the appends that gathered meanwhile go as the next one. The clear
        // must be a full fence (not a plain release store): TryTrigger reads _queued next, and a
        // producer increments _queued and then tries the flag. With a store that can pass the load,
        // both could miss each other and leave an append in the block with nobody to trigger it.
        Interlocked.Exchange(ref _batchOutstanding, 0);
        TryTrigger();
    }

    // Adaptive group commit. The producers of a batch that was just acknowledged are likely to append
    // again at once; if the next batch went out with the first of them, every other sync would carry
    // one record. So after a batch of more than one record, the writer waits for as many appends to
    // gather, but no longer than half of what the batch took (so at most a third more latency, and
    // nothing when writes are cheap, as with Durability.Written). A lone producer never waits.
    private void Linger(int lastBatch, TimeSpan lastBatchTime)
    {
        if (lastBatch <= 1 || _closing)
        {
            return;
        }

        var deadline = Stopwatch.GetTimestamp() + (long)(lastBatchTime.TotalSeconds / 2 * Stopwatch.Frequency);
        while (Volatile.Read(ref _queued) < lastBatch && Stopwatch.GetTimestamp() < deadline)
        {
            Thread.Yield();
        }
    }

    // Runs on the flusher thread (Written) or the writer thread (Sync).
    private long FlushAndReport()
    {
        _writer.Flush();
        return _writer.Fault is { } fault ? throw _writer.FaultedError(fault) : _watermarks.Durable;
    }

    // The flush interval's timer: queues one background sync when something is not durable yet, and
    // none while one is queued (a sync slower than the interval does not pile up more).
    private void RequestFlush()
    {
        if (_watermarks.Written > _watermarks.Durable && Interlocked.Exchange(ref _flushQueued, 1) == 0)
        {
            Task.Factory.StartNew(
                static s =>
                {
                    var commit = (GroupCommit)s!;
                    Volatile.Write(ref commit._flushQueued, 0);
                    commit._writer.Flush();
                },
                this,
                CancellationToken.None,
                TaskCreationOptions.None,
                _flusher!);
        }
    }

}
