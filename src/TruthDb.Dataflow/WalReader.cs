using TruthDb.Dataflow.Reading;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow;

/// <summary>
/// Reads a log from another process than its writer's, without taking the writer's lock and without
/// writing anything in the directory. The writer mirrors its watermarks into the shared, memory-mapped
/// file <c>truthdb.watermarks</c>; this reader maps it read-only, so it reads up to the same durable
/// (or written) watermark as an in-process reader, and notices new data by looking at the mirror
/// (two memory loads; the writer never waits for it) every millisecond while data flows, backing off
/// to <c>pollInterval</c> while the log is idle. Segments are mapped
/// read-only like in-process reads; segments the writer's retention deletes stay readable while
/// mapped (POSIX unlink semantics).
/// </summary>
public sealed class WalReader : IDisposable
{
    private readonly DirectoryReadSource _source;
    private readonly SegmentCatalog _catalog;

    private WalReader(DirectoryReadSource source, SegmentCatalog catalog)
    {
        _source = source;
        _catalog = catalog;
    }

    /// <summary>The highest LSN the writer has written (survives a process crash); 0 when none.</summary>
    public long WrittenLsn => _source.Watermark(WalWatermark.Written);

    /// <summary>The highest LSN the writer has made durable; 0 when none.</summary>
    public long DurableLsn => _source.Watermark(WalWatermark.Durable);

    /// <summary>True while a writer has the log open.</summary>
    public bool IsWriterOpen => _source.WriterOpen;

    /// <summary>Opens the log in <paramref name="directory"/> for reading.</summary>
    /// <param name="directory">A log directory that a writer has opened at least once.</param>
    /// <param name="pollInterval">The longest a following read waits before looking for new data again
    /// (it starts at 1 ms after each change and backs off to this while the log is idle); default 20 ms.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">No writer ever opened the log (no watermark file).</exception>
    /// <exception cref="InvalidDataException">The directory holds no log, or the watermark file belongs to another log.</exception>
    public static WalReader Open(string directory, TimeSpan? pollInterval = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var full = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"The log directory '{full}' does not exist.");
        }

        var interval = pollInterval ?? TimeSpan.FromMilliseconds(20);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(pollInterval));
        var storage = new FileSystemStorage(full);
        var source = new DirectoryReadSource(storage, interval);
        return new WalReader(source, new SegmentCatalog(storage, source.Seed, readOnly: true));
    }

    /// <summary>
    /// Like <see cref="Wal.ReadAsync"/>: records from <paramref name="fromLsn"/> (0: the first still in
    /// the log) up to the chosen watermark; with <see cref="ReadOptions.Follow"/>, until cancelled or
    /// this reader is disposed.
    /// </summary>
    public IAsyncEnumerable<WalRecord> ReadAsync(long fromLsn, ReadOptions? options = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromLsn);
        ObjectDisposedException.ThrowIf(_source.IsClosed, this);
        _source.Refresh();
        var segments = _source.Segments;
        var first = segments.Length > 0 ? segments[0].FirstLsn : 1;
        if (fromLsn != 0 && fromLsn < first && options?.StartAtFirstAvailable != true)
        {
            throw RecordReader.BelowFirst(fromLsn, first, nameof(fromLsn));
        }

        return RecordReader.ReadAsync(_source, _catalog, Math.Max(fromLsn, first), options, ct);
    }

    /// <summary>Stops following reads and unmaps the watermark file.</summary>
    public void Dispose() => _source.Dispose();
}
