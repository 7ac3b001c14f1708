using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Validation;

namespace TruthDb.Dataflow.Reading;

/// <summary>
/// A log directory seen from another process, read-only: segments found by listing the directory
/// (and reading their headers), and the watermarks from one of two places. While a writer has the log
/// open and publishes into its mirror (<see cref="WatermarkMirror"/>), the mirror's words, read with
/// positional reads (<see cref="MirrorProbe"/>). Otherwise — no mirror, a short or foreign one, or the
/// writer closed the log — what the files prove (<see cref="ProvenEnd"/>): the valid prefix of frames,
/// both as the written and as the durable watermark. How a following read learns of new data is in
/// <c>DirectoryReadSource.Waiting.cs</c>.
/// </summary>
/// <remarks>
/// <para>
/// Nothing here writes, syncs or locks anything in the directory. A segment whose header cannot be
/// read is damage: the segments listed stop before it, the watermarks stop before its first LSN, and a
/// read that reaches it fails naming it, so no record is ever skipped.
/// </para>
/// <para>
/// The segment list always covers the watermark handed out: a writer renames a segment into place
/// before it publishes any LSN in it, so a listing made after a watermark was read holds every segment
/// up to that watermark. A watermark beyond the highest one listed for is followed by a listing — at
/// once when polling; while watching, only when the watch has counted a change of segments since the
/// last listing (after <see cref="IChangeWatch.Settle"/>, which counts every rename the kernel
/// reported before the watermark was read).
/// </para>
/// </remarks>
internal sealed partial class DirectoryReadSource : IReadSource, IDisposable
{
    private readonly IWalStorage _storage;
    private readonly MirrorProbe _mirror;
    private readonly LogId _logId;
    private readonly TimeSpan _pollInterval;
    private readonly Lock _gate = new();
    private readonly ProvenEnd _end = new();
    private SegmentInfo[] _segments = [];
    private volatile UnreadableSegment? _unreadableSegment;
    private volatile bool _closed;

    // The highest LSN the segment list is known to cover (a watermark read before the last listing).
    private long _coveredLsn;

    /// <summary>Reads the log in <paramref name="storage"/>; following reads wait with the storage's change watch when <paramref name="watchChanges"/> (and it has one), and poll otherwise.</summary>
    public DirectoryReadSource(IWalStorage storage, TimeSpan pollInterval, bool watchChanges)
    {
        _storage = storage;
        _pollInterval = pollInterval;
        _watchState = watchChanges ? WatchState.NotStarted : WatchState.Polling;
        _pollingReason = watchChanges ? null : "watching was turned off";
        var logId = FindLogId(storage);
        _logId = logId;
        _mirror = new MirrorProbe(storage, logId);
        Refresh();
    }

    public SegmentInfo[] Segments => Volatile.Read(ref _segments);

    public SparseIndex ActiveIndex => SparseIndex.Empty(0);

    public uint Seed => _logId.Seed;

    /// <summary>The log's identity, from its segments' headers.</summary>
    public LogId LogId => _logId;

    public bool IsClosed => _closed;

    /// <summary>True while a writer has the log open and publishes its watermarks.</summary>
    public bool WriterOpen => _mirror.TryRead(out var words) && words.WriterOpen;

    public long Watermark(WalWatermark which)
    {
        long watermark;
        if (_mirror.TryRead(out var words) && words.WriterOpen)
        {
            watermark = which == WalWatermark.Written ? words.Written : words.Durable;
            Cover(words.Written);
        }
        else
        {
            lock (_gate)
            {
                var segments = Segments;
                if (segments.Length > 0)
                {
                    _end.Advance(_storage, segments[^1], Seed);
                }

                watermark = _end.LastLsn;
            }
        }

        // Never past a segment whose header cannot be read.
        return _unreadableSegment is { } damaged ? Math.Min(watermark, damaged.FirstLsn - 1) : watermark;
    }

    public void CheckEnd(long limit)
    {
        if (_unreadableSegment is { } damaged && limit >= damaged.FirstLsn - 1)
        {
            throw Unreadable(damaged);
        }

        if (_mirror.TryRead(out var words) && words.WriterOpen)
        {
            // A live writer publishes how far the log goes: the read stopped at its watermark.
            return;
        }

        Exception? problem;
        lock (_gate)
        {
            var segments = Segments;
            if (segments.Length == 0 || limit != _end.LastLsn)
            {
                return;
            }

            problem = _end.Check(_storage, segments[^1], _logId, _mirror.TryRead(out var closed) ? closed : null);
        }

        if (problem is not null)
        {
            throw problem;
        }
    }

    /// <summary>
    /// Throws when the last listing met a segment whose header cannot be read: <see cref="Segments"/>
    /// stops before it, and the watermarks are held below it.
    /// </summary>
    /// <exception cref="WalCorruptedException">Names the segment and what is wrong with its header.</exception>
    public void ThrowIfSegmentUnreadable()
    {
        if (_unreadableSegment is { } damaged)
        {
            throw Unreadable(damaged);
        }
    }

    /// <summary>Opens the mirror afresh and lists the segments again: a new writer may have replaced the one the last read saw.</summary>
    public void BeginRead()
    {
        ReopenMirror();
        Refresh();
    }

    /// <summary>Opens the mirror afresh at the next look (it may have been replaced since).</summary>
    public void ReopenMirror() => _mirror.Reopen();

    /// <summary>Lists the segments again (new ones appear by rename; retention removes old ones).</summary>
    public void Refresh()
    {
        lock (_gate)
        {
            RefreshLocked();
        }
    }

    private void RefreshLocked()
    {
        var known = Segments;
        var found = new List<SegmentInfo>();
        UnreadableSegment? damaged = null;
        foreach (var name in _storage.ListFiles())
        {
            if (!SegmentNames.TryParseSegment(name, out var firstLsn))
            {
                continue;
            }

            var existing = Array.Find(known, s => s.FirstLsn == firstLsn);
            if (existing is not null)
            {
                found.Add(existing);
                continue;
            }

            switch (LogValidator.TryReadHeader(_storage, name, out var header, out var problem))
            {
                case true when header.FirstLsn == firstLsn && header.LogId.Equals(_logId):
                    found.Add(new SegmentInfo(header.FirstLsn, header.SegmentSize, header.CreatedUnixMs));
                    break;
                case true:
                    problem = header.FirstLsn != firstLsn
                        ? $"it says the segment starts at LSN {header.FirstLsn}, but the file name says {firstLsn}"
                        : $"the segment belongs to another log (log id {header.LogId}, this log's is {_logId})";
                    goto default;
                case false when problem is null:
                    // Removed by retention between the listing and the open.
                    break;
                default:
                    damaged = damaged is not null && damaged.FirstLsn < firstLsn ? damaged : new UnreadableSegment(firstLsn, name, problem!);
                    break;
            }
        }

        found.Sort((a, b) => a.FirstLsn.CompareTo(b.FirstLsn));
        if (damaged is not null)
        {
            found.RemoveAll(s => s.FirstLsn > damaged.FirstLsn);
        }

        _unreadableSegment = damaged;
        Volatile.Write(ref _segments, [.. found]);
    }

    /// <summary>Ends following reads, stops the change watch and closes the mirror.</summary>
    public void Dispose()
    {
        _closed = true;
        lock (_gate)
        {
            StopWatch();
        }

        _mirror.Dispose();
    }

    // Makes the segment list cover lsn: lists the directory again when it may not (see the remarks).
    private void Cover(long lsn)
    {
        if (lsn <= Volatile.Read(ref _coveredLsn))
        {
            return;
        }

        lock (_gate)
        {
            if (lsn <= _coveredLsn)
            {
                return;
            }

            if (_watch is { IsBroken: false } watch)
            {
                watch.Settle();
                if (watch.EntryChanges != _listedAt)
                {
                    ListWatched(watch);
                }
            }
            else
            {
                RefreshLocked();
            }

            Volatile.Write(ref _coveredLsn, lsn);
        }
    }

    // The log id most segment headers carry (a foreign or damaged file does not decide it).
    private static LogId FindLogId(IWalStorage storage)
    {
        var names = new List<string>();
        foreach (var name in storage.ListFiles())
        {
            if (SegmentNames.TryParseSegment(name, out _))
            {
                names.Add(name);
            }
        }

        return LogValidator.MajorityLogId(storage, names, out var firstProblem) ?? (names.Count == 0
            ? throw new InvalidDataException($"'{storage.DirectoryPath}' holds no segment of a log.")
            : throw new WalCorruptedException(names[0], 0, $"no segment header of the log can be read ({firstProblem ?? "the files are gone"})"));
    }

    private static WalCorruptedException Unreadable(UnreadableSegment damaged) =>
        new(damaged.Name, 0, $"the segment's header cannot be read ({damaged.Problem}), so no record from LSN {damaged.FirstLsn} on can be read");

    private sealed record UnreadableSegment(long FirstLsn, string Name, string Problem);
}
