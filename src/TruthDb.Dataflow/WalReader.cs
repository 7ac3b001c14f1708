using Microsoft.Extensions.Logging.Abstractions;
using TruthDb.Dataflow.Cursors;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.LogState;
using TruthDb.Dataflow.Reading;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow;

/// <summary>
/// Reads a log from another process than its writer's, without taking the writer's lock, without
/// running recovery and without writing anything in the directory, whatever state the directory is in.
/// While a writer has the log open it mirrors its watermarks into the small file
/// <c>truthdb.watermarks</c>; this reader reads that file's few words (positional reads, never a
/// mapping, so a mirror that is shrunk or replaced under it cannot crash it), so it reads up to the
/// same durable (or written) watermark as an in-process reader. A following read learns of new data
/// from the file system's change notifications (inotify, on Linux): the writer's update of that file
/// wakes it, with no polling and nothing changed in the writer; it lists the segment files again only
/// when one is created, renamed or deleted, and looks at everything again every <c>pollInterval</c>
/// (at most once a second) as a safety net. Where notifications are not available (another OS, the
/// per-user inotify limits reached) or turned off, it polls instead: every millisecond while data flows, backing off to
/// <c>pollInterval</c> while the log is idle (<see cref="WatchesForChanges"/> tells which).
/// When no writer publishes (no mirror — a plain copy of the segment files —, a short or foreign one,
/// or the writer closed the log), it reads what the files prove: the valid prefix of frames, validated
/// exactly as recovery validates them, up to the first frame that does not validate and never past it;
/// both watermarks are then the end of that prefix. A read that stops there while bytes other than
/// zeros follow fails (<see cref="InvalidDataException"/>, or <see cref="WalCorruptedException"/> when
/// the clean-close note or the closed writer's mirror proves a record after it durable) instead of
/// ending quietly. Segments are mapped read-only like in-process reads; segments the writer's
/// retention deletes stay readable while mapped (POSIX unlink semantics). The one thing it writes is a
/// durable cursor, when asked to (<see cref="CommitCursorAsync"/>): the same cursor files the writer
/// keeps, so the writer's retention keeps what the cursor has not processed yet.
/// </summary>
public sealed class WalReader : IWalReader, IDisposable
{
    private readonly DirectoryReadSource _source;
    private readonly SegmentCatalog _catalog;
    private readonly CursorStore _cursors;

    private WalReader(IWalStorage storage, DirectoryReadSource source, SegmentCatalog catalog)
    {
        _source = source;
        _catalog = catalog;
        _cursors = CursorStore.Open(storage, NullLogger.Instance, this);
    }

    /// <summary>The log's identity (<see cref="Wal.LogId"/>).</summary>
    public Guid LogId => _source.LogId.ToGuid();

    /// <summary>
    /// The highest LSN the writer has written (survives a process crash); 0 when none. With no writer
    /// publishing, the last LSN of the valid prefix of frames in the files.
    /// </summary>
    public long WrittenLsn => _source.Watermark(WalWatermark.Written);

    /// <summary>
    /// The highest LSN the writer has made durable; 0 when none. With no writer publishing, the last LSN
    /// of the valid prefix of frames in the files (what opening the log would keep; this reader cannot
    /// sync, so records a crashed writer never synced stay exposed to a power loss until the kernel
    /// writes them back or a writer opens the log).
    /// </summary>
    public long DurableLsn => _source.Watermark(WalWatermark.Durable);

    /// <summary>
    /// The LSN of the first record still in the log; 0 while it holds no record. The directory is listed
    /// again for it (the writer's retention may have dropped segments since the last look).
    /// </summary>
    public long FirstLsn
    {
        get
        {
            ObjectDisposedException.ThrowIf(_source.IsClosed, this);
            _source.Refresh();
            var segments = _source.Segments;
            return segments.Length > 0 && WrittenLsn >= segments[0].FirstLsn ? segments[0].FirstLsn : 0;
        }
    }

    /// <summary>
    /// Every cursor and the LSN it committed, read from the cursor files now (the writer's and every
    /// reader's commits).
    /// </summary>
    /// <exception cref="WalCorruptedException">A cursor file is damaged (the message names it); no cursor is left out.</exception>
    public IReadOnlyDictionary<string, long> Cursors => _cursors.ReadAll();

    /// <summary>True while a writer has the log open and publishes its watermarks (a writer killed with the log open still counts until another opens it).</summary>
    public bool IsWriterOpen => _source.WriterOpen;

    /// <summary>
    /// True while following reads are woken by the file system's change notifications; false before
    /// the first following read waits, and while they poll (notifications turned off or not available:
    /// <see cref="PollingReason"/> says why).
    /// </summary>
    public bool WatchesForChanges => _source.IsWatching;

    /// <summary>Why following reads poll instead of waiting for change notifications; null while they watch, and before the first following read waits.</summary>
    public string? PollingReason => _source.PollingReason;

    /// <summary>
    /// The log's segments, oldest first, as the directory lists them now (it is listed again, and the
    /// header of a segment not seen before is read), up to <see cref="WrittenLsn"/> as of the call.
    /// Every segment but the last is sealed (the writer seals one before it starts the next); whether
    /// the last one is, is not known here (<see cref="WalSegment.IsSealed"/> is null): its trailer is not read.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    /// <exception cref="WalCorruptedException">A segment's header cannot be read (it names the segment): the
    /// list would stop before it, as reads do.</exception>
    public IReadOnlyList<WalSegment> GetSegments()
    {
        ObjectDisposedException.ThrowIf(_source.IsClosed, this);

        // The watermark first: the listing made after it covers it (LogState/SegmentSnapshot.cs).
        var written = WrittenLsn;
        _source.Refresh();
        _source.ThrowIfSegmentUnreadable();
        return SegmentSnapshot.Describe(_source.Segments, written, lastSealed: null);
    }

    /// <summary>Opens the log in <paramref name="directory"/> for reading.</summary>
    /// <param name="directory">A log directory: segment files, with or without the writer's watermark file.</param>
    /// <param name="pollInterval">The longest a following read waits before looking at the log again: the
    /// safety net of change notifications (at most once a second), and the longest nap when polling (naps start at 1 ms after
    /// each change and back off to this while the log is idle); default 20 ms.</param>
    /// <param name="watchForChanges">False makes following reads poll instead of waiting for the file
    /// system's change notifications (for a file system whose notifications miss other machines'
    /// writes, such as a network file system: there, a watching reader sees new data only at its safety
    /// net, every <paramref name="pollInterval"/> but at most once a second).</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="InvalidDataException">The directory holds no segment.</exception>
    /// <exception cref="WalCorruptedException">No segment header of the log can be read.</exception>
    public static WalReader Open(string directory, TimeSpan? pollInterval = null, bool watchForChanges = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var full = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"The log directory '{full}' does not exist.");
        }

        var interval = pollInterval ?? TimeSpan.FromMilliseconds(20);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(pollInterval));
        return Open(new FileSystemStorage(full), interval, watchForChanges);
    }

    /// <summary>Opens the log in <paramref name="storage"/> for reading (see <see cref="Open(string, TimeSpan?, bool)"/>).</summary>
    internal static WalReader Open(IWalStorage storage, TimeSpan pollInterval, bool watchForChanges = true)
    {
        var source = new DirectoryReadSource(storage, pollInterval, watchForChanges);
        return new WalReader(storage, source, new SegmentCatalog(storage, source.Seed, readOnly: true));
    }

    /// <summary>
    /// Like <see cref="Wal.ReadAsync"/>: records from <paramref name="fromLsn"/> (0: the first still in
    /// the log) up to the chosen watermark; with <see cref="ReadOptions.Follow"/>, until cancelled or
    /// this reader is disposed.
    /// </summary>
    /// <remarks>
    /// A read that reaches a segment whose header cannot be read throws <see cref="WalCorruptedException"/>.
    /// With no writer publishing, a read that ends at the end of the valid prefix while the segment holds
    /// other bytes than zeros after it throws <see cref="InvalidDataException"/> (a torn tail or damage;
    /// this reader cannot tell which) or <see cref="WalCorruptedException"/> (the clean-close note or the
    /// closed writer's mirror proves a record after it durable); a following read does so once it has
    /// waited a poll interval there (while watching, the safety net's interval: at least a second).
    /// </remarks>
    public IAsyncEnumerable<WalRecord> ReadAsync(long fromLsn, ReadOptions? options = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromLsn);
        ObjectDisposedException.ThrowIf(_source.IsClosed, this);
        return RecordReader.Start(_source, _catalog, fromLsn, options, ct);
    }

    /// <summary>The LSN cursor <paramref name="name"/> committed (by the writer or a reader); 0 when it has none yet.</summary>
    /// <exception cref="ArgumentException">The name is not a valid cursor name.</exception>
    /// <exception cref="WalCorruptedException">The cursor's file is damaged.</exception>
    public long GetCursor(string name)
    {
        CursorFile.ValidateName(name);
        return _cursors.Get(name);
    }

    /// <summary>
    /// Durably records that consumer <paramref name="name"/> has processed every record up to
    /// <paramref name="lsn"/>, exactly like <see cref="Wal.CommitCursorAsync"/> (temporary file, sync,
    /// rename, directory sync) and into the same file: the writer's retention keeps the records after
    /// it, and the writer's <see cref="Wal.GetCursor"/> sees it. One consumer owns a cursor name; do not
    /// commit the same name from two processes.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a valid cursor name (1 to 100 of A-Z a-z 0-9 . _ -).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lsn"/> is negative or beyond <see cref="WrittenLsn"/>.</exception>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    public ValueTask CommitCursorAsync(string name, long lsn, CancellationToken ct = default)
    {
        CursorFile.ValidateName(name);
        ObjectDisposedException.ThrowIf(_source.IsClosed, this);
        return _cursors.CommitAsync(name, lsn, WrittenLsn, ct);
    }

    /// <summary>
    /// Reads from just after cursor <paramref name="name"/>'s committed LSN (from the first record when
    /// it has none), like <see cref="ReadAsync"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a valid cursor name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Retention removed records after the cursor (only possible with
    /// <see cref="WalOptions.RetentionIgnoresCursors"/>) and <see cref="ReadOptions.StartAtFirstAvailable"/> is not set.</exception>
    public IAsyncEnumerable<WalRecord> ReadFromCursorAsync(string name, ReadOptions? options = null, CancellationToken ct = default) =>
        ReadAsync(GetCursor(name) + 1, options, ct);

    /// <summary>Stops following reads, stops watching for changes and closes the watermark file.</summary>
    public void Dispose()
    {
        _source.Dispose();
        // A commit in progress finishes first (a file write and syncs); a reader's Dispose is synchronous.
        _cursors.CloseAsync().AsTask().GetAwaiter().GetResult();
    }
}
