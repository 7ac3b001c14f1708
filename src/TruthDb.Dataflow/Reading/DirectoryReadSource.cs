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
/// both as the written and as the durable watermark. New data is noticed by looking again, with a
/// back-off from 1 ms to the poll interval while the log is idle.
/// </summary>
/// <remarks>
/// Nothing here writes, syncs or locks anything in the directory. A segment whose header cannot be
/// read is damage: the segments listed stop before it, the watermarks stop before its first LSN, and a
/// read that reaches it fails naming it, so no record is ever skipped.
/// </remarks>
internal sealed class DirectoryReadSource : IReadSource, IDisposable
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

    public DirectoryReadSource(IWalStorage storage, TimeSpan pollInterval)
    {
        _storage = storage;
        _pollInterval = pollInterval;
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
            throw new WalCorruptedException(damaged.Name, 0,
                $"the segment's header cannot be read ({damaged.Problem}), so no record from LSN {damaged.FirstLsn} on can be read");
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

    public async Task WaitForChangeAsync(long seen, WalWatermark which, CancellationToken ct)
    {
        // Back off from 1 ms to the poll interval while nothing changes: a busy log is seen within a
        // millisecond, an idle follower wakes up only a few dozen times a second. The delay is not
        // cancelled through the token (that would run this reader's continuation inline on whatever
        // thread cancels, a signal handler say); the token is checked after each nap instead.
        // While idle, the mirror is opened afresh (it may have been replaced), the directory listed
        // again (a writer that does not publish may have rolled), and, with no writer publishing,
        // the end of the log checked: a follower does not wait silently at a tail it cannot read.
        var nap = TimeSpan.FromMilliseconds(1);
        while (!_closed && Watermark(which) <= seen)
        {
            ct.ThrowIfCancellationRequested();
            if (nap >= _pollInterval)
            {
                ReopenMirror();
                Refresh();
                CheckEnd(seen);
            }

            await Task.Delay(nap, CancellationToken.None).ConfigureAwait(false);
            nap = TimeSpan.FromTicks(Math.Min(nap.Ticks * 2, _pollInterval.Ticks));
        }

        Refresh();
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

    public void Dispose()
    {
        _closed = true;
        _mirror.Dispose();
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

    private sealed record UnreadableSegment(long FirstLsn, string Name, string Problem);
}
