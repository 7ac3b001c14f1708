using System.Buffers;
using System.Buffers.Binary;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Validation;

/// <summary>A frame of the log that <see cref="FrameSearch"/> found: it validates, wherever it is.</summary>
/// <param name="Offset">Where it starts in the segment.</param>
/// <param name="Lsn">Its LSN.</param>
/// <param name="SyncedLsn">Its synced-LSN field.</param>
/// <param name="PayloadLength">Its payload length.</param>
/// <param name="FrameLength">The bytes it takes, header and padding included.</param>
internal readonly record struct FoundFrame(long Offset, long Lsn, long SyncedLsn, long PayloadLength, long FrameLength);

/// <summary>
/// The search past the first bad frame of a segment, shared by recovery's tail rule
/// (<see cref="TailScan"/>) and the frame listing of inspection (<c>truthdb dump</c>): frames are
/// 8-byte aligned, so every aligned offset up to the end of the record area is tried, and a frame that
/// validates (its checksum is seeded by the log id, so a frame of another log never does) with an LSN
/// in the range asked for is returned. Frames bigger than a window are checked by reading them in
/// pieces (<see cref="StoredFrame.IsValid"/>), so a garbage length never causes a big allocation. The
/// search also tracks where the last non-zero byte in the range ends.
/// </summary>
internal sealed class FrameSearch : IDisposable
{
    private const int Window = 256 * 1024;

    private readonly IStorageFile _file;
    private readonly uint _seed;
    private readonly long _end;
    private readonly long _minLsn;
    private readonly long _maxLsn;
    private byte[] _buffer;
    private long _windowStart;
    private int _length = -1;
    private int _index;

    /// <summary>Searches [<paramref name="from"/>, <paramref name="end"/>) for frames with <paramref name="minLsn"/> ≤ LSN ≤ <paramref name="maxLsn"/>.</summary>
    public FrameSearch(IStorageFile file, uint seed, long from, long end, long minLsn, long maxLsn)
    {
        _file = file;
        _seed = seed;
        _end = end;
        _minLsn = minLsn;
        _maxLsn = maxLsn;
        _windowStart = from;
        _buffer = ArrayPool<byte>.Shared.Rent(Window + FrameCodec.HeaderLength);
    }

    /// <summary>The end of the last non-zero byte of the range read so far; -1 when it was all zeros. Final once <see cref="Next"/> returned false.</summary>
    public long LastNonZeroEnd { get; private set; } = -1;

    /// <summary>The next frame that validates, in offset order; false at the end of the range.</summary>
    public bool Next(out FoundFrame frame)
    {
        while (_windowStart < _end)
        {
            if (_length < 0)
            {
                _length = _file.ReadFully(_windowStart, _buffer.AsSpan(0, (int)Math.Min(Window + FrameCodec.HeaderLength, _end - _windowStart)));
                _index = 0;
                var lastNonZero = _buffer.AsSpan(0, Math.Min(_length, Window)).LastIndexOfAnyExcept((byte)0);
                if (lastNonZero >= 0)
                {
                    LastNonZeroEnd = _windowStart + lastNonZero + 1;
                }
            }

            var span = _buffer.AsSpan(0, _length);
            var limit = Math.Min(Window, _length - FrameCodec.HeaderLength + 1);
            while (_index < limit)
            {
                var i = _index;
                _index += FrameCodec.Alignment;
                var at = _windowStart + i;
                if (FrameCodec.TryPeekHeader(span[i..], _end - at, out var lsn, out var synced, out var frameLength)
                    && lsn >= _minLsn && lsn <= _maxLsn && StoredFrame.IsValid(_file, _seed, at, span[i..], frameLength))
                {
                    frame = new FoundFrame(at, lsn, synced, BinaryPrimitives.ReadUInt32LittleEndian(span[i..]), frameLength);
                    return true;
                }
            }

            _windowStart += Window;
            _length = -1;
        }

        frame = default;
        return false;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}
