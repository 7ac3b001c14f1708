using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TruthDb.Dataflow.Cursors;
using TruthDb.Dataflow.Diagnostics;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.LogState;
using TruthDb.Dataflow.Reading;
using TruthDb.Dataflow.Recovery;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Threading;
using TruthDb.Dataflow.Writing;

namespace TruthDb.Dataflow;

/// <summary>
/// An embedded, single-writer, group-commit write-ahead log. Many producers append concurrently;
/// one writer thread batches their records, writes each batch with one positional write and (with
/// <see cref="Durability.Sync"/>) one fdatasync, and acknowledges each append with its LSN.
/// Readers read up to the published watermarks and never block the writer.
/// </summary>
/// <remarks>
/// Pipeline: <see cref="AppendAsync"/> copies the payload and posts it into a <c>BatchBlock</c>; an
/// <c>ActionBlock</c> with a synchronous delegate (the block's fast path: one consumer, unbounded
/// input) runs on a dedicated, named writer thread (<see cref="WriterThreadName"/>). Batches adapt:
/// when the writer is idle a lone append is sent at once (<c>TriggerBatch</c>); while it writes and
/// syncs, appends gather and the next batch takes all of them (written in groups of at most
/// <see cref="WalOptions.MaxBatchRecords"/>). Exactly one batch is outstanding at a time, and only its
/// holder triggers the next, so a trigger never comes out empty (see <see cref="TryTrigger"/>).
/// Pending work is bounded by <see cref="WalOptions.MaxPendingBytes"/> in front of the block, because
/// a bounded block would drop the fast path and could not keep waiting producers in call order.
/// </remarks>
public sealed partial class Wal : IAsyncDisposable
{
    /// <summary>The name of the writer thread.</summary>
    public const string WriterThreadName = "TruthDb.Dataflow.Writer";

    private static readonly PendingAppend[] FlushRequest = [];

    private readonly WalOptions _options;
    private readonly IWalStorage _storage;
    private readonly IDisposable _lock;
    private readonly Watermarks _watermarks;
    private readonly WriterStatistics _statistics = new();
    private readonly WalMetrics _metrics;
    private readonly LogView _view;
    private readonly LogWriter _writer;
    private readonly SegmentCatalog _catalog;
    private readonly CursorStore _cursors;
    private readonly WriterReadSource _readSource;
    private readonly DedicatedThreadScheduler _scheduler;
    private readonly BatchBlock<PendingAppend> _batches;
    private readonly ActionBlock<PendingAppend[]> _writes;
    private readonly Timer? _flushTimer;
    private readonly Timer? _delayTimer;
    private readonly long _maxPayload;
    private Task? _disposal;

    private Wal(WalOptions options, IWalStorage storage, IDisposable directoryLock, ILogger logger, RecoveredLog recovered, WalMetrics metrics)
    {
        _options = options;
        _metrics = metrics;
        _storage = storage;
        _lock = directoryLock;
        _maxPayload = Math.Min(SegmentLayout.MaxPayload(options.SegmentSize), int.MaxValue - 64);
        _watermarks = new Watermarks(recovered.LastLsn);
        if (MirrorPublisher.Create(storage, recovered.LogId, recovered.LastLsn, logger) is { } mirror)
        {
            _watermarks.MirrorTo(mirror);
        }
        _view = new LogView(recovered.LogId, recovered.Segments, recovered.ActiveIndex);
        _catalog = new SegmentCatalog(storage, recovered.LogId.Seed);
        _cursors = CursorStore.Load(storage, recovered.LastLsn, logger);
        _writer = new LogWriter(storage, options, logger, recovered, _view, _watermarks, _statistics, _catalog, _cursors.Slowest, metrics);
        _readSource = new WriterReadSource(_view, _watermarks);
        _scheduler = new DedicatedThreadScheduler(WriterThreadName);
        // Batches leave the block only through TriggerBatch (its size bound is never reached).
        _batches = new BatchBlock<PendingAppend>(int.MaxValue);
        _writes = new ActionBlock<PendingAppend[]>(
            WriteBatch,
            new ExecutionDataflowBlockOptions { TaskScheduler = _scheduler, MaxDegreeOfParallelism = 1 });
        _batches.LinkTo(_writes, new DataflowLinkOptions { PropagateCompletion = true });
        if (options.Durability == Durability.Written)
        {
            _flushTimer = new Timer(static s => ((Wal)s!).RequestFlush(), this, options.FlushInterval, options.FlushInterval);
        }

        if (options.MaxBatchDelay > TimeSpan.Zero)
        {
            _delayTimer = new Timer(static s => ((Wal)s!).DelayElapsed(), this, Timeout.Infinite, Timeout.Infinite);
        }
    }

    /// <summary>The LSN of the last record whose write returned (survives a process crash); 0 when none.</summary>
    public long WrittenLsn => _watermarks.Written;

    /// <summary>The LSN of the last record covered by a completed fdatasync (survives a power loss); 0 when none.</summary>
    public long DurableLsn => _watermarks.Durable;

    /// <summary>The LSN of the first record in the log; 0 when the log holds no record.</summary>
    public long FirstLsn
    {
        get
        {
            var first = _view.FirstLsn;
            return WrittenLsn >= first ? first : 0;
        }
    }

    /// <summary>The log directory.</summary>
    public string Directory => _storage.DirectoryPath;

    /// <summary>
    /// The log's identity: random, made when the log was created, written into every segment header
    /// (and into every frame's checksum). A copy of the log keeps it; another log never has it.
    /// </summary>
    public Guid LogId => _view.LogId.ToGuid();

    /// <summary>
    /// Creates or recovers the log in <see cref="WalOptions.Directory"/>: takes the directory's writer
    /// lock (a second writer, in this or another process, gets an <see cref="IOException"/> saying so),
    /// validates the segments, truncates a torn tail, and refuses corruption with a
    /// <see cref="WalCorruptedException"/> naming the segment and offset.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static async ValueTask<Wal> OpenAsync(WalOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var validated = options.ValidatedCopy();
        ct.ThrowIfCancellationRequested();

        // Recovery is blocking file IO: keep it off the caller's context.
        return await Task.Run(() => Open(validated), ct).ConfigureAwait(false);
    }

    /// <summary>A snapshot of the writer's counters and the queue.</summary>
    public WalStatistics GetStatistics() =>
        _statistics.Snapshot(Interlocked.Read(ref _pendingBytes), Volatile.Read(ref _queued) + Volatile.Read(ref _waiterCount), _view.Segments.Length);

    /// <summary>
    /// Stops accepting appends, writes and syncs everything already accepted (appends waiting for room
    /// included), publishes, and closes. Appends afterwards fail with <see cref="ObjectDisposedException"/>.
    /// Readers are not waited for: they end (following readers) or fail promptly.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        lock (_waiters)
        {
            _disposal ??= DisposeCoreAsync();
        }

        return new ValueTask(_disposal);
    }

    private static Wal Open(WalOptions options)
    {
        var logger = options.Logger ?? NullLogger.Instance;
        var storage = options.Storage ?? new FileSystemStorage(options.Directory);
        try
        {
            var metrics = new WalMetrics(options, storage.DirectoryPath);
            var wal = Open(options, storage, logger, metrics, out var truncatedBytes);
            metrics.Opened(wal, truncatedBytes);
            WalEvents.Opened(logger, wal, options);
            return wal;
        }
        catch (Exception ex)
        {
            WalEvents.OpenFailed(logger, ex, storage.DirectoryPath);
            throw;
        }
    }

    private static Wal Open(WalOptions options, IWalStorage storage, ILogger logger, WalMetrics metrics, out long truncatedBytes)
    {
        var directoryLock = storage.AcquireWriterLock();
        try
        {
            var recovered = LogRecovery.Recover(storage, options, logger);
            truncatedBytes = recovered.TruncatedBytes;
            try
            {
                return new Wal(options, storage, directoryLock, logger, recovered, metrics);
            }
            catch
            {
                recovered.Active.Dispose();
                throw;
            }
        }
        catch
        {
            directoryLock.Dispose();
            throw;
        }
    }

    private async Task DisposeCoreAsync()
    {
        AdmitAllWaiters();
        _batches.Complete();
        await _writes.Completion.ConfigureAwait(false);
        if (_flushTimer is not null)
        {
            await _flushTimer.DisposeAsync().ConfigureAwait(false);
        }

        if (_delayTimer is not null)
        {
            await _delayTimer.DisposeAsync().ConfigureAwait(false);
        }

        // The final sync and close run on the writer thread too, like every other write-path IO.
        await Task.Factory.StartNew(_writer.Dispose, CancellationToken.None, TaskCreationOptions.None, _scheduler).ConfigureAwait(false);
        _scheduler.Dispose();
        _cursors.Dispose();
        _metrics.Closed();
        _watermarks.Close();
        _lock.Dispose();
    }

    // Runs on the writer thread.
    private void WriteBatch(PendingAppend[] batch)
    {
        if (ReferenceEquals(batch, FlushRequest))
        {
            Volatile.Write(ref _flushRequested, 0);
            _writer.Flush();
            return;
        }

        Interlocked.Add(ref _queued, -batch.Length);
        var started = Stopwatch.GetTimestamp();
        for (var start = 0; start < batch.Length; start += _options.MaxBatchRecords)
        {
            var group = batch.AsSpan(start, Math.Min(_options.MaxBatchRecords, batch.Length - start));
            long bytes = 0;
            foreach (var item in group)
            {
                bytes += item.Length;
            }

            _writer.Write(group);
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
        if (lastBatch <= 1 || _disposal is not null)
        {
            return;
        }

        var deadline = Stopwatch.GetTimestamp() + (long)(lastBatchTime.TotalSeconds / 2 * Stopwatch.Frequency);
        while (Volatile.Read(ref _queued) < lastBatch && Stopwatch.GetTimestamp() < deadline)
        {
            Thread.Yield();
        }
    }

    private void RequestFlush()
    {
        if (WrittenLsn > DurableLsn && Interlocked.Exchange(ref _flushRequested, 1) == 0 && !_writes.Post(FlushRequest))
        {
            Volatile.Write(ref _flushRequested, 0);
        }
    }
}
