using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.LogState;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Threading;

namespace TruthDb.Dataflow.Writing;

/// <summary>
/// The single writer: turns batches of appends into frames and writes them, on the dedicated writer
/// thread only (everything here is touched by that thread alone, so it takes no locks; what readers
/// need is published into the <see cref="LogView"/> and the <see cref="Watermarks"/>).
/// </summary>
/// <remarks>
/// Order of operations for one batch, and what each crash point leaves behind:
/// <list type="number">
/// <item>Frames are encoded into one pooled buffer; each frame carries the durable LSN as of now
/// (its "synced LSN"). Nothing is on disk yet: a crash loses the batch, none of it was acknowledged.</item>
/// <item>One positional write of the buffer at the end of the active segment (more only when the
/// batch is bigger than <see cref="WalOptions.MaxBatchBytes"/> or rolls to a new segment). Then
/// <see cref="Watermarks.Written"/> moves. A process crash now keeps the batch (it is in the page
/// cache); a power loss may drop or tear any part of it: recovery truncates that torn tail, and since
/// no frame of it was acknowledged as durable, nothing acknowledged is lost.</item>
/// <item><see cref="Durability.Sync"/>: fdatasync of the segment, then <see cref="Watermarks.Durable"/>
/// moves, then the appends complete. <see cref="Durability.Written"/>: the appends complete after
/// step 2; the background sync (<see cref="Flush"/>, every <see cref="WalOptions.FlushInterval"/> on
/// the flusher's thread, see <c>GroupCommit</c>) runs the fdatasync and moves the durable watermark
/// while the writer goes on writing.</item>
/// <item>Completing: the writer hands the batch's appends to the thread pool in one work item
/// (<see cref="BatchCompletion"/>) and goes on with the next batch; each append's continuation runs
/// as a work item of its own, never here. Whatever is acknowledged was covered by the watermark
/// published before the hand-over, so no crash after it can take back an acknowledgement.</item>
/// </list>
/// Rolling: the seal trailer is written into the full segment and synced; the next segment (already
/// prepared) gets its header, is synced, renamed to its name, and the directory is synced — all before
/// any record is written into it. Fail-stop: the first failed write or sync faults the writer; the batch
/// and everything after it fail with <see cref="WalFaultedException"/>, and no sync is ever retried
/// (after a failed fsync the kernel may have dropped the dirty pages, so a retry could lie).
/// Syncs from another thread: <see cref="Flush"/> may run on any thread while the writer writes (an
/// fdatasync makes durable every write that returned before it started; writes that run alongside it
/// are not counted). Every sync and every change of the active segment holds <c>_syncLock</c>, so a
/// sync never meets a segment being sealed or closed, and the durable watermark is published by one
/// sync at a time and only forward. A sync covers the written watermark read under the lock before
/// it starts: the records up to it are in the active segment or in sealed ones (synced when sealed).
/// </remarks>
internal sealed partial class LogWriter : IDisposable
{
    private readonly IWalStorage _storage;
    private readonly WalOptions _options;
    private readonly ILogger _logger;
    private readonly Watermarks _watermarks;
    private readonly SegmentPreparer _preparer;
    private readonly LogView _view;
    private readonly uint _seed;
    private readonly WriterEvents _events;
    private readonly SegmentCatalog _catalog;
    private readonly Func<long?> _slowestCursor;
    private readonly TimeProvider _timeProvider;
    private readonly DedicatedThreadScheduler _writerThread;

    private IStorageFile? _active;
    private long _writeOffset;
    private bool _activeSealed;
    private long _nextLsn;
    private long _writtenLsn;
    private byte[] _buffer;
    private Exception? _fault;
    private SparseIndex _activeIndex;

    // Held by every sync and every change of _active (sealing, rolling, closing): see the remarks.
    private readonly Lock _syncLock = new();

    /// <summary>Takes over the recovered log.</summary>
    public LogWriter(IWalStorage storage, WalOptions options, ILogger logger, RecoveredLog recovered, LogView view, Watermarks watermarks, WriterEvents events, SegmentCatalog catalog, Func<long?> slowestCursor, DedicatedThreadScheduler writerThread)
    {
        _writerThread = writerThread;
        _catalog = catalog;
        _slowestCursor = slowestCursor;
        _timeProvider = options.TimeProvider ?? TimeProvider.System;
        _storage = storage;
        _options = options;
        _logger = logger;
        _watermarks = watermarks;
        _events = events;
        _view = view;
        _seed = view.Seed;
        _active = recovered.Active;
        _writeOffset = recovered.WriteOffset;
        _activeSealed = recovered.ActiveSealed;
        _nextLsn = recovered.LastLsn + 1;
        _writtenLsn = recovered.LastLsn;
        _activeIndex = recovered.ActiveIndex;
        if (_activeSealed)
        {
            view.PublishSealed(view.Segments[^1]);
        }

        _buffer = ArrayPool<byte>.Shared.Rent((int)options.MaxBatchBytes);
        _preparer = new SegmentPreparer(storage, options.SegmentSize, zeroFill: options.Durability == Durability.Sync);
        _preparer.StartNext();
    }

    /// <summary>The segments, as this writer last published them.</summary>
    private SegmentInfo[] Segments => _view.Segments;

    /// <summary>The first IO error, once the writer has faulted. Any thread.</summary>
    public Exception? Fault => Volatile.Read(ref _fault);

    /// <summary>
    /// Writes one batch and completes each append: with its LSN, with <see cref="WalFullException"/>
    /// when no segment could be prepared for it, or with <see cref="WalFaultedException"/>.
    /// </summary>
    public void Write(PendingAppend[] array, int start, int count)
    {
        Debug.Assert(_writerThread.IsCurrentThread, "the writer runs on the writer thread only");
        var batch = array.AsSpan(start, count);
        if (Fault is { } fault)
        {
            FailAll(batch, 0, FaultedError(fault));
            return;
        }

        var firstLsn = _nextLsn;
        var written = 0;
        WalFullException? full = null;
        try
        {
            var position = 0;
            var recordsEnd = _active is null ? 0 : SegmentLayout.RecordsEnd(Segments[^1].Size);
            for (; written < batch.Length; written++)
            {
                // An append's records (one, or a batch's) always go into one segment.
                var item = batch[written];
                var frameLength = (int)item.FramedLength;
                if (_activeSealed || _writeOffset + position + frameLength > recordsEnd)
                {
                    WriteBuffer(ref position);
                    if ((full = Roll()) is not null)
                    {
                        break;
                    }

                    recordsEnd = SegmentLayout.RecordsEnd(Segments[^1].Size);
                }

                if (position + frameLength > _buffer.Length)
                {
                    WriteBuffer(ref position);
                    GrowBuffer(frameLength);
                }

                var payloads = item.Payload;
                foreach (var length in item.Lengths)
                {
                    if (_activeIndex.Wants(_writeOffset + position))
                    {
                        _activeIndex = _activeIndex.With(_nextLsn, _writeOffset + position);
                        _view.Publish(_activeIndex);
                    }

                    position += FrameCodec.Encode(_buffer.AsSpan(position), _seed, _nextLsn, _watermarks.Durable, payloads[..length]);
                    payloads = payloads[length..];
                    _nextLsn++;
                }
            }

            WriteBuffer(ref position);
            if (_options.Durability == Durability.Sync && written > 0)
            {
                lock (_syncLock)
                {
                    SyncActive(_writtenLsn);
                }
            }
        }
        catch (Exception ex)
        {
            FailAll(batch, 0, FaultedError(SetFault(ex)));
            return;
        }

        // A background sync may have failed while this batch was written: fail-stop covers the batch too.
        if (Fault is { } late)
        {
            FailAll(batch, 0, FaultedError(late));
            return;
        }

        _events.BatchWritten(batch[..written], (int)(_nextLsn - firstLsn));
        if (written > 0)
        {
            Debug.Assert(_options.Durability == Durability.Written || _nextLsn - 1 <= _watermarks.Durable, "an append is acknowledged only once its records are durable (Sync)");
            BatchCompletion.Succeed(array, start, written, firstLsn);
        }

        if (full is not null)
        {
            _events.Refused(batch.Length - written);
            FailAll(batch, written, full);
        }
    }

    /// <summary>
    /// Syncs what was written since the last sync (with <see cref="Durability.Written"/>; under
    /// <see cref="Durability.Sync"/> every batch is synced already). Any thread, also while the writer
    /// writes: it syncs the active segment up to the written watermark it reads before the sync (see the
    /// remarks). A failed sync faults the log.
    /// </summary>
    public void Flush()
    {
        lock (_syncLock)
        {
            var written = _watermarks.Written;
            if (Fault is null && _active is not null && written > _watermarks.Durable)
            {
                try
                {
                    SyncActive(written);
                }
                catch (Exception ex)
                {
                    SetFault(ex);
                }
            }
        }
    }

    /// <summary>Final flush and close, after the last batch (called once the writer thread is idle for good).</summary>
    public void Dispose()
    {
        Debug.Assert(_writerThread.IsCurrentThread, "the writer closes on the writer thread");
        Flush();
        if (Fault is null && _active is not null)
        {
            try
            {
                AtomicFile.Write(_storage, CleanClose.FileName, CleanClose.Encode(_view.LogId, Segments[^1].FirstLsn, _writtenLsn, _writeOffset));
            }
            catch (IOException)
            {
                // Only an optimisation: the next open scans the tail as after a crash.
            }
        }

        lock (_syncLock)
        {
            _active?.Dispose();
            _active = null;
        }

        _preparer.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        LogClosed(_logger, _storage.DirectoryPath, _watermarks.Durable);
    }

    private void WriteBuffer(ref int position)
    {
        if (position == 0)
        {
            return;
        }

        _active!.Write(_writeOffset, _buffer.AsSpan(0, position));
        _writeOffset += position;
        Debug.Assert(_nextLsn - 1 >= _writtenLsn, "the written LSN only moves forward");
        _writtenLsn = _nextLsn - 1;
        _events.Written(position);
        _watermarks.PublishWritten(_writtenLsn);
        position = 0;
    }

    // Syncs the active segment, which holds every written record up to covered that is not in a sealed
    // (synced) segment, and publishes covered as durable. Under _syncLock. Never after a fault, which
    // a failed sync sets under the same lock: after a failed fdatasync Linux may have marked the
    // unwritten pages clean, and reports the error once per file, so the next one on this file returns
    // 0 without writing them. (Under Written, the flusher's sync can fail while the writer is in the
    // middle of a batch that then rolls: the seal's syncs must not vouch for the lost records.)
    private void SyncActive(long covered)
    {
        Debug.Assert(_syncLock.IsHeldByCurrentThread, "syncs hold the sync lock");
        Debug.Assert(covered <= _watermarks.Written, "a sync covers only what was written");
        if (Fault is { } fault)
        {
            throw FaultedError(fault);
        }

        var started = Stopwatch.GetTimestamp();
        _active!.DataSync();
        var elapsed = Stopwatch.GetElapsedTime(started);
        _events.Synced(elapsed);
        if (covered > _watermarks.Durable)
        {
            _watermarks.PublishDurable(covered);
        }
    }

    private void GrowBuffer(int frameLength)
    {
        if (frameLength > _buffer.Length)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(frameLength);
        }
    }

    private Exception SetFault(Exception error)
    {
        if (Interlocked.CompareExchange(ref _fault, error, null) is null)
        {
            LogFaulted(_logger, error, _storage.DirectoryPath, _watermarks.Durable);
            _events.Faulted(error);
        }

        return Fault!;
    }

    /// <summary>
    /// The error appends and flushes fail with once the log has faulted with <paramref name="error"/>:
    /// what failed (saying so when the disk is full) and what is still promised. Any thread.
    /// </summary>
    public WalFaultedException FaultedError(Exception error)
    {
        var what = StorageErrors.IsDiskFull(error) ? "the disk is full (a write or sync failed with ENOSPC)." : error.Message;
        var durable = _watermarks.Durable;
        var promise = _options.Durability == Durability.Sync
            ? $"Nothing after LSN {durable} is acknowledged"
            : $"Records up to LSN {durable} are durable; records after it were acknowledged as written and may not reach the disk";
        return new WalFaultedException($"The write-ahead log in '{_storage.DirectoryPath}' has faulted: {what} {promise}; reopen the log to recover.", error);
    }

    private static void FailAll(ReadOnlySpan<PendingAppend> batch, int from, Exception error)
    {
        for (var i = from; i < batch.Length; i++)
        {
            batch[i].Fail(error);
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Sealed segment '{Segment}' at LSN {LastLsn}; new segment '{NewSegment}'.")]
    private static partial void LogRolled(ILogger logger, string segment, long lastLsn, string newSegment);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "The log in '{Directory}' is full: no space for the next segment. Appends that need it are refused until space is freed.")]
    private static partial void LogFull(ILogger logger, Exception error, string directory);

    [LoggerMessage(EventId = 12, Level = LogLevel.Critical, Message = "The log in '{Directory}' has faulted; the durable watermark stays at LSN {DurableLsn}.")]
    private static partial void LogFaulted(ILogger logger, Exception error, string directory, long durableLsn);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "Closed the log in '{Directory}' at durable LSN {DurableLsn}.")]
    private static partial void LogClosed(ILogger logger, string directory, long durableLsn);
}
