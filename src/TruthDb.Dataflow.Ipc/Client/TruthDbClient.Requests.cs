using TruthDb.Dataflow.Ipc.Client;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc;

/// <summary>Requests and replies on the control channel: ids, the reader loop, and what a lost connection does.</summary>
public sealed partial class TruthDbClient
{
    private async Task<TReply> RequestAsync<TRequest, TReply>(MessageType type, MessageType replyType, TRequest body, CancellationToken ct)
    {
        var id = NextId();
        var pending = new PendingReply<TReply>(replyType);
        Register(id, pending);
        try
        {
            await _sender.SendAsync(type, id, body, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            _pending.TryRemove(id, out _);
            throw Lost(ex);
        }

        return await pending.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    private void Register(uint id, PendingRequest pending)
    {
        _pending[id] = pending;
        if (Volatile.Read(ref _lost) is { } lost)
        {
            // The reader loop failed everything before this was registered.
            if (_pending.TryRemove(id, out _))
            {
                throw new TruthDbConnectionException("The connection to the server is lost.", lost);
            }
        }
    }

    private async Task ReadRepliesAsync()
    {
        await Task.Yield();
        Exception reason;
        try
        {
            using var reader = new MessageReader(_control.Input, ProtocolConstants.MaxMaxMessageSize);
            while (await reader.ReadAsync(_closing.Token).ConfigureAwait(false))
            {
                if (!MessageCodec.TryReadEnvelope(reader.Current, out var type, out var id, out var body))
                {
                    throw new TruthDbConnectionException("The server sent a message that is not a valid envelope.");
                }

                if (id == 0 && type == MessageType.Error)
                {
                    // A connection-level error (the server closes the connection after it).
                    var error = MessageCodec.ReadBody<ErrorReply>(body);
                    throw new TruthDbConnectionException($"The server reported: {(TruthDbErrorCode)error.Code}: {error.Message}");
                }

                if (_pending.TryRemove(id, out var pending))
                {
                    pending.Complete(type, body);
                }
            }

            reason = new TruthDbConnectionException("The server closed the connection.");

            // The server completed the control channel (it stops, or refused this connection): close.
            FailAll(reason);
            await _multiplexer.DisposeAsync().ConfigureAwait(false);
            return;
        }
        catch (Exception ex)
        {
            reason = ex is TruthDbConnectionException ? ex : new TruthDbConnectionException("The connection to the server is lost: " + ex.Message, ex);
        }

        FailAll(reason);
    }

    private void FailAll(Exception reason)
    {
        Interlocked.CompareExchange(ref _lost, reason, null);
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var pending))
            {
                pending.Lost(reason);
            }
        }

        FailQueuedAppends(reason);
    }

    private TruthDbConnectionException Lost(Exception ex) =>
        Volatile.Read(ref _lost) as TruthDbConnectionException ?? new TruthDbConnectionException("The connection to the server is lost: " + ex.Message, ex);
}
