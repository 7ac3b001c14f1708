using System.Buffers;
using System.Globalization;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Validation;

namespace TruthDb.Dataflow.Reading;

/// <summary>
/// Where the log ends as its files prove it, for a reader in another process when no writer publishes
/// watermarks (no mirror, a short or foreign one, or the writer closed the log): the valid prefix of
/// the last segment's frames, validated exactly as recovery validates them (<see cref="LogValidator.ReadFrames"/>),
/// stopping at the first frame that does not validate and never reading past it. Only reads: the
/// files are opened read-only and nothing is written, synced or locked.
/// </summary>
/// <remarks>
/// Whether the log really ends there is checked when a read stops at that end (<see cref="Check"/>):
/// the end is clean when the writer's clean-close note says the log ended exactly there, when a valid
/// seal trailer does, or when nothing but zeros follows in the segment. Evidence that a record past the
/// end was durable (the clean-close note, or a closed writer's mirror, says the log went further) makes
/// it corruption; any other bytes after the end make it a tail the reader cannot read (a write torn by
/// a crash, or damage: only <c>truthdb verify</c> and recovery, which look further, can tell).
/// </remarks>
internal sealed class ProvenEnd
{
    private const int ZeroWindow = 1024 * 1024;

    private long _segmentFirstLsn = -1;
    private long _offset;
    private long _nextLsn = 1;
    private FrameStatus _status;
    private Exception? _problem;
    private bool _checked;
    private bool _scanned;

    /// <summary>The last LSN of the valid prefix (0 when the log holds no record).</summary>
    public long LastLsn => _nextLsn - 1;

    /// <summary>Reads the frames written into <paramref name="last"/> since the previous look.</summary>
    public void Advance(IWalStorage storage, SegmentInfo last, uint seed)
    {
        if (last.FirstLsn != _segmentFirstLsn)
        {
            (_segmentFirstLsn, _offset, _nextLsn, _checked, _scanned) = (last.FirstLsn, SegmentLayout.RecordsStart, last.FirstLsn, false, false);
        }

        IStorageFile file;
        try
        {
            file = storage.Open(last.Name, writable: false);
        }
        catch (FileNotFoundException)
        {
            // Gone since the listing (retention, after a writer rolled): the next listing says more.
            return;
        }

        using (file)
        {
            var end = SegmentLayout.RecordsEnd(last.Size);
            if (_scanned && _offset + FrameCodec.HeaderLength <= end && IsZero(file, _offset, _offset + FrameCodec.HeaderLength))
            {
                // Nothing new where the next frame would start: no need to read further.
                return;
            }

            var frames = LogValidator.ReadFrames(file, seed, _offset, end, _nextLsn);
            if (!_scanned || frames.Stop != _offset || frames.Status != _status)
            {
                (_offset, _nextLsn, _status, _checked, _scanned) = (frames.Stop, frames.NextLsn, frames.Status, false, true);
            }
        }
    }

    /// <summary>
    /// Null when the log ends cleanly at <see cref="LastLsn"/>; otherwise the error a read that stops
    /// there throws (checked once per end: the answer is kept until the end moves).
    /// </summary>
    /// <param name="storage">The log directory.</param>
    /// <param name="last">The segment <see cref="Advance"/> read.</param>
    /// <param name="logId">The log's id (a clean-close note of another log proves nothing).</param>
    /// <param name="closedMirror">The mirror of a writer that closed the log, if there is one.</param>
    public Exception? Check(IWalStorage storage, SegmentInfo last, LogId logId, MirrorWords? closedMirror)
    {
        if (!_checked)
        {
            _problem = Find(storage, last, logId, closedMirror);
            _checked = true;
        }

        return _problem;
    }

    private static bool IsZero(IStorageFile file, long from, long to)
    {
        Span<byte> bytes = stackalloc byte[FrameCodec.HeaderLength];
        var span = bytes[..(int)(to - from)];
        return file.ReadFully(from, span) == span.Length && !span.ContainsAnyExcept((byte)0);
    }

    private Exception? Find(IWalStorage storage, SegmentInfo last, LogId logId, MirrorWords? closedMirror)
    {
        var lastLsn = LastLsn;
        var at = string.Create(CultureInfo.InvariantCulture, $"the frame of LSN {_nextLsn} {Describe(_status)}");
        var note = CleanClose.TryDecode(AtomicFile.Read(storage, CleanClose.FileName) ?? []);
        if (note is { } clean && clean.LogId.Equals(logId))
        {
            if ((clean.SegmentFirstLsn, clean.LastLsn, clean.RecordsEnd) == (last.FirstLsn, lastLsn, _offset))
            {
                return null;
            }

            if (clean.SegmentFirstLsn > last.FirstLsn || clean.LastLsn > lastLsn)
            {
                return new WalCorruptedException(last.Name, _offset, string.Create(CultureInfo.InvariantCulture,
                    $"{at}, but the clean-close note ({CleanClose.FileName}) says the writer closed the log at LSN {clean.LastLsn}, after syncing it: a durable record is damaged"));
            }
        }

        if (closedMirror is { } mirror && mirror.Durable > lastLsn)
        {
            return new WalCorruptedException(last.Name, _offset, string.Create(CultureInfo.InvariantCulture,
                $"{at}, but the writer's watermark file ({WatermarkMirror.FileName}) says LSN {mirror.Durable} was made durable: a durable record is damaged"));
        }

        using var file = storage.Open(last.Name, writable: false);
        var end = SegmentLayout.RecordsEnd(last.Size);
        Span<byte> trailer = stackalloc byte[FrameCodec.TrailerLength];
        if (FrameCodec.TryDecodeTrailer(trailer[..file.ReadFully(end, trailer)], logId.Seed, out var sealedLast, out var sealedEnd)
            && sealedLast == lastLsn && sealedEnd == _offset)
        {
            return null;
        }

        var dirty = FirstNonZero(file, _offset, end);
        if (dirty < 0)
        {
            return null;
        }

        var where = string.Create(CultureInfo.InvariantCulture,
            $"The log cannot be read past LSN {lastLsn}: in segment '{last.Name}', offset {_offset}, {at}, and the segment is not empty after it (a non-zero byte at offset {dirty}).");
        return new InvalidDataException(where
            + " Either a crash tore the last write (opening the log for writing truncates such a tail) or the log is damaged;"
            + " no writer publishes its watermarks, so this reader cannot tell which, and reads no further.");
    }

    // The offset of the first non-zero byte in [from, to), or -1.
    private static long FirstNonZero(IStorageFile file, long from, long to)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ZeroWindow);
        try
        {
            for (var at = from; at < to; at += ZeroWindow)
            {
                var span = buffer.AsSpan(0, (int)Math.Min(ZeroWindow, to - at));
                var read = file.ReadFully(at, span);
                var index = span[..read].IndexOfAnyExcept((byte)0);
                if (index >= 0)
                {
                    return at + index;
                }

                if (read < span.Length)
                {
                    // The file ends before its segment size says: that is not a clean end either.
                    return at + read;
                }
            }

            return -1;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string Describe(FrameStatus status) => status switch
    {
        FrameStatus.Truncated => "is cut off (its length runs past the record area or the file)",
        FrameStatus.OutOfSequence => "is out of sequence (a frame of this log with another LSN)",
        _ => "does not validate (checksum mismatch: zeros, garbage or a torn write)",
    };
}
