using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using TruthDb.Dataflow.Threading;

namespace TruthDb.Dataflow.Storage;

/// <summary>
/// The Linux <see cref="IChangeWatch"/>: one inotify instance with two watches, the directory
/// (entries created, moved in or out, deleted; and the directory itself going away) and one file in it
/// (modified, attributes changed — a link count going to zero —, deleted, moved away); and one thread
/// that blocks in poll(2) on the inotify descriptor and an eventfd that stops it.
/// </summary>
/// <remarks>
/// <para>
/// Why inotify: the watched file is one that a writer updates with pwrite, and the kernel reports a
/// pwrite to a watched file before the pwrite returns; so a reader learns of a write without polling,
/// without a mapping (a mapped page of a file shrunk under it raises SIGBUS, which .NET cannot catch),
/// without writing anything itself, and without any change to the writer, which pays for the event
/// (queued to this instance) only while someone watches. Reports for the same watch that are queued
/// and not yet read are merged by the kernel, so a busy writer wakes this thread at most once per
/// read.
/// </para>
/// <para>
/// When the kernel's queue overflows (fs.inotify.max_queued_events), some events are lost: the
/// overflow counts as a change of entries, so the reader lists the directory again. A failure of the
/// thread's own calls marks the watch broken; so does the directory going away. Counters are stored
/// before the signal that wakes waiters. The thread is the only one that blocks on the descriptors;
/// <see cref="Settle"/> reads what is queued without blocking, under the same lock.
/// </para>
/// </remarks>
internal sealed class InotifyWatch : IChangeWatch
{
    private const uint DirectoryMask = LinuxNative.InCreate | LinuxNative.InMovedTo | LinuxNative.InDelete | LinuxNative.InMovedFrom
                                       | LinuxNative.InDeleteSelf | LinuxNative.InMoveSelf | LinuxNative.InOnlyDir;

    private const uint FileMask = LinuxNative.InModify | LinuxNative.InAttrib | LinuxNative.InDeleteSelf | LinuxNative.InMoveSelf;
    private const uint Gone = LinuxNative.InDeleteSelf | LinuxNative.InMoveSelf | LinuxNative.InIgnored;

    private readonly int _inotify;
    private readonly int _stop;
    private readonly int _directoryWatch;
    private readonly string _filePath;
    private readonly string _fileName;
    private readonly Func<string, bool> _isEntryOfInterest;
    private readonly long _tickTimestamps;
    private readonly ChangeSignal _signal = new();
    private readonly Lock _gate = new();
    private readonly byte[] _buffer = new byte[16 * 1024];
    private readonly Thread _thread;
    private int _fileWatch = -1;
    private long _entryChanges;
    private long _ticks;
    private volatile bool _broken;
    private bool _disposed;

    private InotifyWatch(int inotify, int stop, int directoryWatch, string directory, string fileName, Func<string, bool> isEntryOfInterest, TimeSpan tick)
    {
        _inotify = inotify;
        _stop = stop;
        _directoryWatch = directoryWatch;
        _filePath = Path.Combine(directory, fileName);
        _fileName = fileName;
        _isEntryOfInterest = isEntryOfInterest;
        _tickTimestamps = Math.Max(1, (long)(tick.TotalSeconds * Stopwatch.Frequency));
        _thread = new Thread(Run) { Name = "truthdb-reader-watch", IsBackground = true };
    }

    /// <inheritdoc />
    public long EntryChanges => Interlocked.Read(ref _entryChanges);

    /// <inheritdoc />
    public long Ticks => Interlocked.Read(ref _ticks);

    /// <inheritdoc />
    public bool IsBroken => _broken;

    /// <summary>Starts watching <paramref name="fileName"/> and the entries of <paramref name="directory"/>; throws an <see cref="IOException"/> when inotify cannot (its per-user limits, say).</summary>
    public static InotifyWatch Start(string directory, string fileName, Func<string, bool> isEntryOfInterest, TimeSpan tick)
    {
        var inotify = LinuxNative.InotifyOpen(directory);
        var stop = -1;
        try
        {
            stop = LinuxNative.EventFdOpen(directory);
            var directoryWatch = LinuxNative.InotifyWatch(inotify, directory, DirectoryMask);
            if (directoryWatch < 0)
            {
                throw new DirectoryNotFoundException($"The log directory '{directory}' does not exist.");
            }

            var watch = new InotifyWatch(inotify, stop, directoryWatch, directory, fileName, isEntryOfInterest, tick);
            watch.WatchFile();
            watch._thread.Start();
            return watch;
        }
        catch
        {
            LinuxNative.CloseDescriptor(inotify);
            if (stop >= 0)
            {
                LinuxNative.CloseDescriptor(stop);
            }

            throw;
        }
    }

    /// <inheritdoc />
    public Task NextChange() => _signal.Next();

    /// <inheritdoc />
    public void Wake() => _signal.Signal(always: true);

    /// <inheritdoc />
    public void Settle()
    {
        bool changed;
        lock (_gate)
        {
            changed = !_disposed && Drain();
        }

        if (changed)
        {
            _signal.Signal();
        }
    }

    /// <summary>Stops the thread, waits for it to end and closes both descriptors; wakes every waiter.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        LinuxNative.EventFdSignal(_stop);
        _thread.Join();
        LinuxNative.CloseDescriptor(_inotify);
        LinuxNative.CloseDescriptor(_stop);
        _signal.Signal(always: true);
    }

    /// <summary>Counts the events in <paramref name="events"/> (a buffer read from the inotify descriptor); true when any was a change of interest. Call under the lock.</summary>
    internal bool Apply(ReadOnlySpan<byte> events)
    {
        var changed = false;
        while (events.Length >= LinuxNative.InotifyEventHeader)
        {
            var wd = BinaryPrimitives.ReadInt32LittleEndian(events);
            var mask = BinaryPrimitives.ReadUInt32LittleEndian(events[4..]);
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(events[12..]);
            var name = events.Slice(LinuxNative.InotifyEventHeader, length);
            var end = name.IndexOf((byte)0);
            changed |= OnEvent(wd, mask, end < 0 ? name : name[..end]);
            events = events[(LinuxNative.InotifyEventHeader + length)..];
        }

        return changed;
    }

    private bool OnEvent(int wd, uint mask, ReadOnlySpan<byte> name)
    {
        if ((mask & LinuxNative.InQueueOverflow) != 0)
        {
            // Events were dropped: any entry may have changed.
            Interlocked.Increment(ref _entryChanges);
            return true;
        }

        if (wd == _fileWatch)
        {
            if ((mask & (Gone | LinuxNative.InAttrib)) != 0)
            {
                // Deleted, moved away or a link dropped: the file the reader has open may no longer be
                // the one at the path. Watch whatever is there now.
                if ((mask & Gone) != 0)
                {
                    LinuxNative.InotifyUnwatch(_inotify, _fileWatch);
                    _fileWatch = -1;
                    WatchFile();
                }

                Interlocked.Increment(ref _entryChanges);
            }

            return true;
        }

        if (wd != _directoryWatch)
        {
            // A late event of a file watch already replaced.
            return false;
        }

        if ((mask & Gone) != 0)
        {
            _broken = true;
            Interlocked.Increment(ref _entryChanges);
            return true;
        }

        var entry = Encoding.UTF8.GetString(name);
        if (entry == _fileName)
        {
            if ((mask & (LinuxNative.InCreate | LinuxNative.InMovedTo)) != 0)
            {
                WatchFile();
            }
        }
        else if (name.IsEmpty || !_isEntryOfInterest(entry))
        {
            return false;
        }

        Interlocked.Increment(ref _entryChanges);
        return true;
    }

    // Watches the file at the path now (none while there is none: its creation is an entry event).
    private void WatchFile() => _fileWatch = LinuxNative.InotifyWatch(_inotify, _filePath, FileMask);

    // Reads and counts everything queued now, without blocking. Under the lock.
    private bool Drain()
    {
        var changed = false;
        try
        {
            int read;
            while ((read = LinuxNative.ReadNonBlocking(_inotify, _buffer, _filePath)) > 0)
            {
                changed |= Apply(_buffer.AsSpan(0, read));
            }
        }
        catch (IOException)
        {
            // A call of the watch itself failed (read, or adding a watch): it sees nothing for sure
            // from now on; the reader falls back to polling.
            _broken = true;
            changed = true;
        }

        return changed;
    }

    private void Run()
    {
        var nextTick = Stopwatch.GetTimestamp() + _tickTimestamps;
        try
        {
            while (true)
            {
                var wait = Math.Max(0, nextTick - Stopwatch.GetTimestamp());
                var waitMs = (int)Math.Min(int.MaxValue, (wait * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency);
                var (events, stop) = LinuxNative.PollReadable(_inotify, _stop, waitMs);
                if (stop)
                {
                    return;
                }

                var changed = false;
                if (events)
                {
                    lock (_gate)
                    {
                        changed = !_disposed && Drain();
                    }
                }

                var now = Stopwatch.GetTimestamp();
                if (now >= nextTick)
                {
                    Interlocked.Increment(ref _ticks);
                    nextTick = now + _tickTimestamps;
                    changed = true;
                }

                if (changed)
                {
                    _signal.Signal();
                }
            }
        }
        catch (IOException)
        {
            // poll failed: the watch sees nothing from now on; waiters fall back to polling.
            _broken = true;
            _signal.Signal(always: true);
        }
    }
}
