using System.Buffers;
using System.IO.Pipelines;

namespace TruthDb.Dataflow.Ipc.Protocol;

/// <summary>
/// Writes whole messages to a channel from many tasks: one at a time, and a sender that sees others
/// queued behind it leaves the flush to the last of them, so replies that pile up go out together.
/// </summary>
internal sealed class MessageSender : IDisposable
{
    private readonly PipeWriter _output;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly MessageBuffer _buffer = new();
    private int _waiting;

    public MessageSender(PipeWriter output) => _output = output;

    /// <summary>Sends one message.</summary>
    public async ValueTask SendAsync<T>(MessageType type, uint id, T body, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _waiting);
        await _lock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            var flush = Interlocked.Decrement(ref _waiting) == 0;
            _buffer.Reset();
            MessageCodec.Write(_buffer, type, id, body);
            _output.Write(_buffer.WrittenMemory.Span);
            if (flush)
            {
                await _output.FlushAsync(ct).ConfigureAwait(false);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Sends messages already encoded (length prefixes included) and flushes.</summary>
    public async ValueTask SendEncodedAsync(ReadOnlyMemory<byte> messages, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _waiting);
        await _lock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            Interlocked.Decrement(ref _waiting);
            _output.Write(messages.Span);
            await _output.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose()
    {
        _lock.Dispose();
        _buffer.Dispose();
    }
}
