using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Reading;

/// <summary>
/// A log directory seen from another process: segments found by listing the directory (and reading
/// their headers), watermarks read from the writer's shared mirror (<see cref="WatermarkMirror"/>),
/// and new data noticed by looking at the mirror (two memory loads: no lock, nothing the writer
/// waits for) with a back-off from 1 ms to the poll interval while the log is idle.
/// </summary>
internal sealed class DirectoryReadSource : IReadSource, IDisposable
{
    private readonly FileSystemStorage _storage;
    private readonly IMappedFile _mirror;
    private readonly LogId _logId;
    private readonly TimeSpan _pollInterval;
    private SegmentInfo[] _segments = [];
    private volatile bool _closed;

    public DirectoryReadSource(FileSystemStorage storage, TimeSpan pollInterval)
    {
        _storage = storage;
        _pollInterval = pollInterval;
        _mirror = storage.MapReadOnly(WatermarkMirror.FileName);
        Refresh();
        if (_segments.Length == 0)
        {
            _mirror.Dispose();
            throw new InvalidDataException($"'{storage.DirectoryPath}' holds no segment of a log.");
        }

        _logId = ReadHeader(_segments[0].Name).LogId;
        if (!WatermarkMirror.Matches(_mirror.Bytes.Span, _logId))
        {
            _mirror.Dispose();
            throw new InvalidDataException($"The watermark file in '{storage.DirectoryPath}' does not belong to the log there (log id {_logId}).");
        }
    }

    public SegmentInfo[] Segments => Volatile.Read(ref _segments);

    public SparseIndex ActiveIndex => SparseIndex.Empty(0);

    public uint Seed => _logId.Seed;

    /// <summary>The log's identity, from its first segment's header.</summary>
    public LogId LogId => _logId;

    public bool IsClosed => _closed;

    /// <summary>True while a writer has the log open.</summary>
    public bool WriterOpen => Load(WatermarkMirror.OpenOffset) != 0;

    public long Watermark(WalWatermark which) =>
        Load(which == WalWatermark.Written ? WatermarkMirror.WrittenOffset : WatermarkMirror.DurableOffset);

    public async Task WaitForChangeAsync(long seen, WalWatermark which, CancellationToken ct)
    {
        // Back off from 1 ms to the poll interval while nothing changes: a busy log is seen within a
        // millisecond, an idle follower wakes up only a few dozen times a second. The delay is not
        // cancelled through the token (that would run this reader's continuation inline on whatever
        // thread cancels, a signal handler say); the token is checked after each nap instead.
        var nap = TimeSpan.FromMilliseconds(1);
        while (!_closed && Watermark(which) <= seen)
        {
            ct.ThrowIfCancellationRequested();
            await Task.Delay(nap, CancellationToken.None).ConfigureAwait(false);
            nap = TimeSpan.FromTicks(Math.Min(nap.Ticks * 2, _pollInterval.Ticks));
        }

        Refresh();
    }

    /// <summary>Lists the segments again (new ones appear by rename; retention removes old ones).</summary>
    public void Refresh()
    {
        var known = Segments;
        var found = new List<SegmentInfo>();
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
            }
            else if (TryReadHeader(name, out var header))
            {
                found.Add(new SegmentInfo(header.FirstLsn, header.SegmentSize, header.CreatedUnixMs));
            }
        }

        found.Sort((a, b) => a.FirstLsn.CompareTo(b.FirstLsn));
        Volatile.Write(ref _segments, [.. found]);
    }

    public void Dispose()
    {
        _closed = true;
        _mirror.Dispose();
    }

    private long Load(int offset) =>
        Volatile.Read(ref Unsafe.As<byte, long>(ref MemoryMarshal.GetReference(_mirror.Bytes.Span[offset..])));

    private SegmentHeader ReadHeader(string name) =>
        TryReadHeader(name, out var header) ? header : throw new WalCorruptedException(name, 0, "the segment header cannot be read");

    private bool TryReadHeader(string name, out SegmentHeader header)
    {
        header = default;
        try
        {
            using var file = _storage.Open(name, writable: false);
            Span<byte> bytes = stackalloc byte[SegmentHeader.Length];
            return SegmentHeader.TryRead(bytes[..file.ReadFully(0, bytes)], out header, out _);
        }
        catch (FileNotFoundException)
        {
            // Removed by retention between the listing and the open.
            return false;
        }
    }
}
