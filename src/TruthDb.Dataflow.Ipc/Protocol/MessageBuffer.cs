using System.Buffers;
using System.Buffers.Binary;

namespace TruthDb.Dataflow.Ipc.Protocol;

/// <summary>
/// A pooled, growable buffer that messages are encoded into: length prefixes and MessagePack array32
/// counts are reserved first and filled in once the message is complete.
/// </summary>
internal sealed class MessageBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _written;

    public MessageBuffer(int initialSize = 4096) => _buffer = ArrayPool<byte>.Shared.Rent(initialSize);

    /// <summary>Bytes written so far.</summary>
    public int Length => _written;

    /// <summary>What was written.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    /// <summary>Forgets what was written (keeps the buffer).</summary>
    public void Reset() => _written = 0;

    /// <summary>Reserves <paramref name="count"/> bytes and returns where they start, to be filled in later.</summary>
    public int Reserve(int count)
    {
        Ensure(count);
        var at = _written;
        _written += count;
        return at;
    }

    /// <summary>Fills in the 4-byte big-endian length prefix reserved at <paramref name="at"/>: the bytes written after it.</summary>
    public void CompleteLength(int at) =>
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(at), (uint)(_written - at - ProtocolConstants.LengthPrefix));

    /// <summary>Writes a MessagePack array32 header with <paramref name="count"/> into the 5 bytes reserved at <paramref name="at"/>.</summary>
    public void CompleteArray32(int at, int count)
    {
        _buffer[at] = 0xdd;
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(at + 1), (uint)count);
    }

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        var needed = _written + Math.Max(sizeHint, 256);
        if (needed <= _buffer.Length)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
        _buffer.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
