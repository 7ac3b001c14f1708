using TruthDb.Dataflow.Ipc.Client;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc;

/// <summary>Requests and replies on the control channel: ids, the reply reader, and what a lost connection does.</summary>
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
            // The reader failed everything before this was registered.
            if (_pending.TryRemove(id, out _))
            {
                throw new TruthDbConnectionException("The connection to the server is lost.", lost);
            }
        }
    }

    private async Task ReadRepliesAsync()
    {
        await Task.Yield();
        await ReadRepliesOnAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Reads and dispatches replies. The callers of append replies are completed on this thread, without
    /// another pool hop, but only after everything already received is dispatched and the reading is
    /// handed on to a new call of this method, which waits for the next reply (the channel resumes it on
    /// the pool): whatever those callers do, even wait for another reply, the replies keep being read.
    /// </summary>
    private async Task ReadRepliesOnAsync()
    {
        Exception? reason = null;
        List<PendingRequest>? finish = null;
        try
        {
            while (await _replies.ReadAsync(_closing.Token).ConfigureAwait(false))
            {
                do
                {
                    Dispatch(_replies.Current, ref finish);
                }
                while (_replies.TryRead());

                if (finish is not null)
                {
                    _ = ReadRepliesOnAsync();
                    FinishReplies(finish);
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            reason = ex is TruthDbConnectionException ? ex : new TruthDbConnectionException("The connection to the server is lost: " + ex.Message, ex);
        }

        // The connection ended: the replies that came before it are answers all the same.
        if (finish is not null)
        {
            FinishReplies(finish);
        }

        try
        {
            _replies.Dispose();
        }
        catch (InvalidOperationException)
        {
            // The channel's reader was completed under it (the connection is gone): nothing to release.
        }

        if (reason is null)
        {
            // The server completed the control channel (it stops, or refused this connection): close.
            FailAll(new TruthDbConnectionException("The server closed the connection."));
            await _multiplexer.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            FailAll(reason);
        }

        _readingEnded.TrySetResult();
    }

    private void Dispatch(System.Buffers.ReadOnlySequence<byte> message, ref List<PendingRequest>? finish)
    {
        if (!MessageCodec.TryReadEnvelope(message, out var type, out var id, out var body))
        {
            throw new TruthDbConnectionException("The server sent a message that is not a valid envelope.");
        }

        if (id == 0 && type == MessageType.Error)
        {
            // A connection-level error (the server closes the connection after it).
            var error = MessageCodec.ReadBody<ErrorReply>(body);
            throw new TruthDbConnectionException($"The server reported: {(TruthDbErrorCode)error.Code}: {error.Message}");
        }

        if (_pending.TryRemove(id, out var pending) && pending.Complete(type, body))
        {
            (finish ??= []).Add(pending);
        }
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
