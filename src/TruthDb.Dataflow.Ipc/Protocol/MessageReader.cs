using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace TruthDb.Dataflow.Ipc.Protocol;

/// <summary>
/// Reads length-prefixed messages from a channel. The multiplexer delivers data in frames of at most
/// 20 KiB, so a message may arrive in pieces: a small one is reassembled in the pipe, a big one is
/// copied into a pooled buffer as it arrives (so the channel's flow-control window keeps moving). The
/// length is checked against the maximum before anything is allocated for the message.
/// </summary>
internal sealed class MessageReader : IDisposable
{
    // Messages up to this size are reassembled in the pipe (far below the multiplexer's channel window).
    private const int InPipeLimit = 16 * 1024;

    private readonly PipeReader _input;
    private readonly int _maxMessageSize;
    private byte[]? _rented;
    private SequencePosition _consumed;
    private bool _holding;

    public MessageReader(PipeReader input, int maxMessageSize)
    {
        _input = input;
        _maxMessageSize = maxMessageSize;
    }

    /// <summary>The message read last (without its length prefix); valid until the next read.</summary>
    public ReadOnlySequence<byte> Current { get; private set; }

    /// <summary>
    /// Reads the next message: false at a clean end of the stream. Throws <see cref="MessageTooLargeException"/>
    /// for a length above the maximum and <see cref="EndOfStreamException"/> for a stream that ends inside a message.
    /// </summary>
    public async ValueTask<bool> ReadAsync(CancellationToken ct)
    {
        Release();
        while (true)
        {
            var result = await _input.ReadAsync(ct).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= ProtocolConstants.LengthPrefix)
            {
                var length = ReadLength(buffer);
                if (length > _maxMessageSize)
                {
                    _input.AdvanceTo(buffer.Start, buffer.End);
                    throw new MessageTooLargeException(length, _maxMessageSize);
                }

                if (buffer.Length >= ProtocolConstants.LengthPrefix + length)
                {
                    Current = buffer.Slice(ProtocolConstants.LengthPrefix, length);
                    _consumed = buffer.GetPosition(ProtocolConstants.LengthPrefix + length);
                    _holding = true;
                    return true;
                }

                if (length > InPipeLimit)
                {
                    await ReadLargeAsync(buffer, (int)length, ct).ConfigureAwait(false);
                    return true;
                }
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                _input.AdvanceTo(buffer.End);
                return buffer.IsEmpty && !result.IsCanceled ? false : throw new EndOfStreamException($"The stream ended inside a message ({buffer.Length} bytes of it received).");
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public void Dispose() => Release();

    private static uint ReadLength(ReadOnlySequence<byte> buffer)
    {
        Span<byte> prefix = stackalloc byte[ProtocolConstants.LengthPrefix];
        buffer.Slice(0, ProtocolConstants.LengthPrefix).CopyTo(prefix);
        return BinaryPrimitives.ReadUInt32BigEndian(prefix);
    }

    private async ValueTask ReadLargeAsync(ReadOnlySequence<byte> buffer, int length, CancellationToken ct)
    {
        var rented = ArrayPool<byte>.Shared.Rent(length);
        _rented = rented;
        var part = buffer.Slice(ProtocolConstants.LengthPrefix);
        part.CopyTo(rented);
        var filled = (int)part.Length;
        _input.AdvanceTo(buffer.End);
        while (filled < length)
        {
            var result = await _input.ReadAsync(ct).ConfigureAwait(false);
            var next = result.Buffer;
            var take = (int)Math.Min(next.Length, length - filled);
            next.Slice(0, take).CopyTo(rented.AsSpan(filled));
            filled += take;
            _input.AdvanceTo(next.GetPosition(take));
            if (filled < length && (result.IsCompleted || result.IsCanceled))
            {
                throw new EndOfStreamException($"The stream ended inside a message ({filled} of {length} bytes received).");
            }
        }

        Current = new ReadOnlySequence<byte>(rented, 0, length);
    }

    private void Release()
    {
        if (_holding)
        {
            _holding = false;
            _input.AdvanceTo(_consumed);
        }

        if (_rented is { } rented)
        {
            _rented = null;
            ArrayPool<byte>.Shared.Return(rented);
        }

        Current = default;
    }
}
