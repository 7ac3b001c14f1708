using System.Buffers;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Validation;

/// <summary>
/// Reads the frames of one segment in order with buffered positional reads. Frames are validated
/// (checksum, zero padding, LSN sequence) before they are returned; a frame bigger than the buffer
/// is checksummed in pieces before any bigger buffer is taken, so a garbage length never causes a
/// big allocation. It validates and locates frames; payloads are read through mappings (readers).
/// </summary>
internal sealed class StoredFrameReader : IDisposable
{
    private const int DefaultBufferSize = 256 * 1024;

    private readonly IStorageFile _file;
    private readonly uint _seed;
    private readonly long _end;
    private byte[] _buffer;
    private long _bufferOffset;
    private int _bufferLength;

    /// <summary>Reads <paramref name="file"/> from <paramref name="offset"/>, expecting <paramref name="expectedLsn"/> there; frames end at <paramref name="end"/>.</summary>
    public StoredFrameReader(IStorageFile file, uint seed, long offset, long end, long expectedLsn)
    {
        _file = file;
        _seed = seed;
        _end = end;
        Offset = offset;
        ExpectedLsn = expectedLsn;
        _buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(DefaultBufferSize, Math.Max(end - offset, FrameCodec.HeaderLength)));
    }

    /// <summary>Offset of the next frame to read (after a failed read: of the bad frame).</summary>
    public long Offset { get; private set; }

    /// <summary>The LSN the next frame must have.</summary>
    public long ExpectedLsn { get; private set; }

    /// <summary>The last frame returned with <see cref="FrameStatus.Success"/>.</summary>
    public DecodedFrame Current { get; private set; }

    /// <summary>
    /// Reads the next frame. <see cref="FrameStatus.Success"/> advances; anything else leaves
    /// <see cref="Offset"/> at the bad frame. The end of the record area reads as <see cref="FrameStatus.Truncated"/>.
    /// A failure is reported only after the bytes at <see cref="Offset"/> were read afresh, so a
    /// reader tailing a file that is still being written never trusts bytes it read too early.
    /// </summary>
    public FrameStatus Next()
    {
        var fills = 0;
        while (true)
        {
            var start = (int)(Offset - _bufferOffset);
            var available = Offset >= _bufferOffset && start <= _bufferLength
                ? _buffer.AsSpan(start, _bufferLength - start)
                : [];
            var status = FrameCodec.TryDecode(available, _end - Offset, _seed, ExpectedLsn, out var frame);
            if (status == FrameStatus.Success)
            {
                Current = frame;
                Offset += frame.FrameLength;
                ExpectedLsn++;
                return status;
            }

            if (status != FrameStatus.NeedMoreData && fills > 0)
            {
                return status;
            }

            // A first fill brings the header in, a second one a buffer big enough for the frame;
            // still short after that, the file ends before the frame does.
            if (fills == 2)
            {
                return FrameStatus.Truncated;
            }

            fills++;
            if (!Fill())
            {
                return FrameStatus.ChecksumMismatch;
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    // Reads from Offset into the buffer, growing it when one frame needs more room. False when the
    // frame at Offset is too big for the buffer and fails its checksum (checked without growing), or
    // when nothing could be read.
    private bool Fill()
    {
        if (Offset >= _bufferOffset && Offset - _bufferOffset + FrameCodec.HeaderLength <= _bufferLength)
        {
            var header = _buffer.AsSpan((int)(Offset - _bufferOffset), FrameCodec.HeaderLength);
            if (FrameCodec.TryPeekHeader(header, _end - Offset, out _, out _, out var frameLength) && frameLength > _buffer.Length)
            {
                if (!StoredFrame.IsValid(_file, _seed, Offset, header, frameLength))
                {
                    return false;
                }

                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent((int)frameLength);
            }
        }

        _bufferOffset = Offset;
        var want = (int)Math.Min(_buffer.Length, _end - Offset);
        _bufferLength = _file.ReadFully(Offset, _buffer.AsSpan(0, want));
        return _bufferLength > 0;
    }
}
