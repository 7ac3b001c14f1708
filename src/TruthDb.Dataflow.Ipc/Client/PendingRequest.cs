using System.Buffers;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Client;

/// <summary>A request sent and not yet answered; the reader loop completes it from its reply.</summary>
internal abstract class PendingRequest
{
    /// <summary>Completes from the reply (decoded here: the body points into the channel's buffer).</summary>
    public abstract void Complete(MessageType type, ReadOnlySequence<byte> body);

    /// <summary>The connection ended before the reply.</summary>
    public abstract void Lost(Exception reason);

    protected static TruthDbException ErrorFrom(ReadOnlySequence<byte> body)
    {
        var error = MessageCodec.ReadBody<ErrorReply>(body);
        var code = Enum.IsDefined((TruthDbErrorCode)error.Code) ? (TruthDbErrorCode)error.Code : TruthDbErrorCode.Unknown;
        return new TruthDbException(code, error.Message);
    }
}

/// <summary>A request whose reply is one message of type <typeparamref name="T"/>.</summary>
internal sealed class PendingReply<T> : PendingRequest
{
    private readonly MessageType _expected;
    private readonly TaskCompletionSource<T> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PendingReply(MessageType expected) => _expected = expected;

    public Task<T> Task => _reply.Task;

    public override void Complete(MessageType type, ReadOnlySequence<byte> body)
    {
        try
        {
            if (type == MessageType.Error)
            {
                _reply.TrySetException(ErrorFrom(body));
            }
            else if (type == _expected)
            {
                _reply.TrySetResult(MessageCodec.ReadBody<T>(body));
            }
            else
            {
                _reply.TrySetException(new TruthDbException(TruthDbErrorCode.BadRequest, $"The server replied with message type {(int)type}; {_expected} was expected."));
            }
        }
        catch (MessagePack.MessagePackSerializationException ex)
        {
            _reply.TrySetException(new TruthDbException(TruthDbErrorCode.BadRequest, "The server's reply could not be decoded: " + ex.Message));
        }
    }

    public override void Lost(Exception reason) => _reply.TrySetException(reason);
}

/// <summary>One Append message: the appends coalesced into it, completed with consecutive LSNs.</summary>
internal sealed class PendingAppends : PendingRequest
{
    private readonly List<AppendItem> _items;
    private readonly TruthDbClient? _client;

    public PendingAppends(List<AppendItem> items, TruthDbClient? client = null)
    {
        _items = items;
        _client = client;
    }

    public override void Complete(MessageType type, ReadOnlySequence<byte> body)
    {
        try
        {
            if (type == MessageType.Error)
            {
                var error = ErrorFrom(body);
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Items.FailWith(s.Error), (Items: _items, Error: (Exception)error), preferLocal: false);
                return;
            }

            var reply = type == MessageType.AppendReply ? MessageCodec.ReadBody<AppendReply>(body) : null;
            if (reply is null || reply.Count != _items.Count)
            {
                Lost(new TruthDbAppendOutcomeUnknownException($"The server's reply to an append of {_items.Count} records does not match it."));
                return;
            }

            // One work item completes the whole batch: the callers' continuations run one after another
            // on a pool thread (not on the reader loop), instead of one pool hop per append.
            if (_client is { } client)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Client.CompleteAppends(s.Items, s.First), (Client: client, Items: _items, First: reply.FirstLsn), preferLocal: false);
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Items.CompleteFrom(s.First), (Items: _items, First: reply.FirstLsn), preferLocal: false);
            }
        }
        catch (MessagePack.MessagePackSerializationException ex)
        {
            Lost(new TruthDbAppendOutcomeUnknownException("The server's reply to an append could not be decoded: " + ex.Message));
        }
    }

    public override void Lost(Exception reason)
    {
        var unknown = reason as TruthDbAppendOutcomeUnknownException
            ?? new TruthDbAppendOutcomeUnknownException("The connection was lost after the append was sent and before its reply: it may or may not be in the log.", reason);
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Items.FailWith(s.Error), (Items: _items, Error: (Exception)unknown), preferLocal: false);
    }
}

/// <summary>Completing the appends of one message together.</summary>
internal static class AppendItems
{

    public static void CompleteFrom(this List<AppendItem> items, long firstLsn)
    {
        for (var i = 0; i < items.Count; i++)
        {
            items[i].Completion.TrySetResult(firstLsn + i);
        }
    }

    public static void FailWith(this List<AppendItem> items, Exception error)
    {
        foreach (var item in items)
        {
            item.Completion.TrySetException(error);
        }
    }
}

/// <summary>An append waiting to be sent or answered.</summary>
internal sealed class AppendItem
{
    public AppendItem(byte[] payload) => Payload = payload;

    public byte[] Payload { get; }

    // Completed from a pool work item (never from the reader loop), so continuations may run inline.
    public TaskCompletionSource<long> Completion { get; } = new();
}
