using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TruthDb.Dataflow.Cursors;
using TruthDb.Dataflow.Diagnostics;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.LogState;
using TruthDb.Dataflow.Reading;
using TruthDb.Dataflow.Recovery;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Writing;

namespace TruthDb.Dataflow;

/// <summary>
/// An embedded, single-writer, group-commit write-ahead log. Many producers append concurrently;
/// one writer thread batches their records, writes each batch with one positional write and (with
/// <see cref="Durability.Sync"/>) one fdatasync, and acknowledges each append with its LSN.
/// Readers read up to the published watermarks and never block the writer.
/// </summary>
/// <remarks>
/// This class checks arguments and hands over: group commit (batching, backpressure, the writer
/// thread) is <c>Writing/GroupCommit.cs</c>, the write path and its durability order
/// <c>Writing/LogWriter.cs</c>, reads <c>Reading/</c>, cursors <c>Cursors/</c>; docs/architecture.md
/// has the layers.
/// </remarks>
public sealed partial class Wal : IWalReader, IAsyncDisposable
{
    /// <summary>The name of the writer thread.</summary>
    public const string WriterThreadName = GroupCommit.WriterThreadName;

    private readonly WalOptions _options;
    private readonly IWalStorage _storage;
    private readonly IDisposable _lock;
    private readonly Watermarks _watermarks;
    private readonly WalMetrics _metrics;
    private readonly LogView _view;
    private readonly SegmentCatalog _catalog;
    private readonly CursorStore _cursors;
    private readonly GroupCommit _commit;
    private readonly WriterReadSource _readSource;
    private readonly long _maxPayload;
    private readonly Lock _gate = new();
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
        _cursors = CursorStore.Load(storage, recovered.LastLsn, logger, this);
        _commit = new GroupCommit(storage, options, logger, recovered, _view, _watermarks, _catalog, _cursors.Slowest, metrics);
        _readSource = new WriterReadSource(_view, _watermarks);
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
    public WalStatistics GetStatistics() => _commit.Statistics(_view.Segments.Length);

    /// <summary>
    /// The log's segments, oldest first (the last one is the active segment), as the writer has published
    /// them, up to <see cref="WrittenLsn"/> as of the call. Reads no file.
    /// </summary>
    public IReadOnlyList<WalSegment> GetSegments()
    {
        // The watermark first: the segment list read after it covers it (LogState/SegmentSnapshot.cs).
        var written = WrittenLsn;
        var segments = _view.Segments;
        return SegmentSnapshot.Describe(segments, written, _view.IsActiveSealed(segments[^1]));
    }

    /// <summary>
    /// Stops accepting appends, writes and syncs everything already accepted (appends waiting for room
    /// included), runs the flushes and truncations already asked for, waits for a cursor commit in
    /// progress, publishes, and closes. Appends, flushes, truncations and cursor commits afterwards fail
    /// with <see cref="ObjectDisposedException"/>. Readers are not waited for: they end (following
    /// readers) or fail promptly.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        lock (_gate)
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
            metrics.Opened(wal.GetStatistics, wal._watermarks, truncatedBytes);
            WalEvents.Opened(logger, wal.Directory, wal.FirstLsn, wal.WrittenLsn, wal._view.Segments.Length, options);
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
        await _commit.DisposeAsync().ConfigureAwait(false);

        // Background work ends before the directory is let go: the sparse indexes of sealed segments.
        await _catalog.IndexWritesDone().ConfigureAwait(false);
        await _cursors.CloseAsync().ConfigureAwait(false);
        _metrics.Closed();
        _watermarks.Close();
        _lock.Dispose();
    }
}
