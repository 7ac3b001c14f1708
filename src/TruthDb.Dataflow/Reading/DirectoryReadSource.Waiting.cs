using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Reading;

/// <content>
/// How a following read learns of new data. Watching (Linux): the first wait starts the storage's
/// change watch (<see cref="IWalStorage.WatchChanges"/>: inotify on the mirror file and on the
/// directory's entries), and a wait ends when the writer's next store into the mirror wakes it. The
/// segment list is listed again only when the watch counted a segment created, renamed or deleted (or
/// lost events), and on the safety net: a tick every poll interval, but at most once a second
/// (<see cref="MinSafetyNet"/>), reopens the mirror, lists the segments and checks the end of the log,
/// as polling does when idle. What only the safety net sees is rare (a writer that stopped updating its
/// mirror, or never had one; a file system whose notifications miss other machines' writes); a tick
/// every 20 ms instead cost a busy follower its p99 (docs/reading.md). Polling (no inotify, its limits
/// reached, the directory gone, or watching turned off): look again with a back-off from 1 ms to the
/// poll interval. Both are correct; polling only sees a change later and costs more while idle.
/// </content>
internal sealed partial class DirectoryReadSource
{
    private enum WatchState
    {
        NotStarted,
        Watching,
        Polling,
    }

    /// <summary>The shortest interval of the safety net while watching.</summary>
    private static readonly TimeSpan MinSafetyNet = TimeSpan.FromSeconds(1);

    private volatile WatchState _watchState;
    private IChangeWatch? _watch;
    private string? _pollingReason;

    // The watch's count of entry changes when the directory was last listed.
    private long _listedAt;

    /// <summary>True while following reads wait for the change watch; false before the first wait, and while they poll.</summary>
    public bool IsWatching => _watchState == WatchState.Watching && _watch is { IsBroken: false };

    /// <summary>Why following reads poll (null while they watch, or before the first wait).</summary>
    public string? PollingReason => _pollingReason;

    public Task WaitForChangeAsync(long seen, WalWatermark which, CancellationToken ct) =>
        StartWatch() is { } watch ? WatchForChangeAsync(watch, seen, which, ct) : PollForChangeAsync(seen, which, ct);

    private async Task WatchForChangeAsync(IChangeWatch watch, long seen, WalWatermark which, CancellationToken ct)
    {
        // A cancelled wait is woken through the watch's signal, whose waiters continue on the thread
        // pool: never inline on whatever thread cancels (a signal handler, say).
        using var cancelled = ct.CanBeCanceled ? ct.UnsafeRegister(static w => ((IChangeWatch)w!).Wake(), watch) : default;
        var ticks = watch.Ticks;
        while (true)
        {
            // Take the signal before looking, so a change in between is not missed.
            var next = watch.NextChange();
            if (_closed)
            {
                return;
            }

            ct.ThrowIfCancellationRequested();
            if (watch.IsBroken)
            {
                await PollForChangeAsync(seen, which, ct).ConfigureAwait(false);
                return;
            }

            if (watch.EntryChanges != Volatile.Read(ref _listedAt))
            {
                // A segment came or went (or events were lost): list them now.
                lock (_gate)
                {
                    ListWatched(watch);
                }
            }

            if (Watermark(which) > seen)
            {
                return;
            }

            if (watch.Ticks != ticks)
            {
                // The safety net: what watching cannot see (a mirror that stopped being updated, a
                // writer without one, a tail that cannot be read) is looked at every poll interval.
                ticks = watch.Ticks;
                BeginRead();
                CheckEnd(seen);
            }

            await next.ConfigureAwait(false);
        }
    }

    private async Task PollForChangeAsync(long seen, WalWatermark which, CancellationToken ct)
    {
        // Back off from 1 ms to the poll interval while nothing changes: a busy log is seen within a
        // millisecond, an idle follower wakes up only a few dozen times a second. The delay is not
        // cancelled through the token (that would run this reader's continuation inline on whatever
        // thread cancels, a signal handler say); the token is checked after each nap instead.
        // While idle, the mirror is opened afresh (it may have been replaced), the directory listed
        // again (a writer that does not publish may have rolled), and, with no writer publishing,
        // the end of the log checked: a follower does not wait silently at a tail it cannot read.
        // A watermark that moves lists the segments again (Cover).
        var nap = TimeSpan.FromMilliseconds(1);
        while (!_closed && Watermark(which) <= seen)
        {
            ct.ThrowIfCancellationRequested();
            if (nap >= _pollInterval)
            {
                BeginRead();
                CheckEnd(seen);
            }

            await Task.Delay(nap, CancellationToken.None).ConfigureAwait(false);
            nap = TimeSpan.FromTicks(Math.Min(nap.Ticks * 2, _pollInterval.Ticks));
        }
    }

    // The watch, started at the first wait; null while polling (then the reason is kept).
    private IChangeWatch? StartWatch()
    {
        if (_watchState == WatchState.Polling)
        {
            return null;
        }

        lock (_gate)
        {
            if (_watchState == WatchState.NotStarted && !_closed)
            {
                try
                {
                    _watch = _storage.WatchChanges(WatermarkMirror.FileName, IsSegment, _pollInterval > MinSafetyNet ? _pollInterval : MinSafetyNet);
                    _pollingReason = _watch is null ? "the storage has no change notifications (inotify is Linux only)" : null;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    _pollingReason = $"watching the directory failed: {ex.Message}";
                }

                if (_watch is { } started)
                {
                    // Changes before the watch started are not counted: list now, after it started.
                    ListWatched(started);
                }

                _watchState = _watch is null ? WatchState.Polling : WatchState.Watching;
            }

            if (_watch is { IsBroken: true })
            {
                StopWatch();
                _pollingReason = "the watch stopped seeing changes (the directory was removed or moved, or an inotify call failed)";
            }

            return _watch;
        }
    }

    // Lists the segments, and reopens the mirror (it may be among what changed). Under the lock.
    private void ListWatched(IChangeWatch watch)
    {
        Volatile.Write(ref _listedAt, watch.EntryChanges);
        _mirror.Reopen();
        RefreshLocked();
    }

    // Under the lock (or on dispose): from now on, following reads poll.
    private void StopWatch()
    {
        _watchState = WatchState.Polling;
        _watch?.Dispose();
        _watch = null;
    }

    private static bool IsSegment(string name) => SegmentNames.TryParseSegment(name, out _);
}
