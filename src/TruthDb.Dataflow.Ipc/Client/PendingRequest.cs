using System.Buffers;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Client;

/// <summary>A request sent and not yet answered; the reply reader completes it from its reply.</summary>
internal abstract class PendingRequest
{
    /// <summary>
    /// Takes the reply (decoded here: the body points into the channel's buffer). Returns true when callers
    /// are still to be completed by <see cref="Finish"/>, which the reader runs once it has handed the
    /// reading on (callers' continuations may run there, and may wait for other replies).
    /// </summary>
    public abstract bool Complete(MessageType type, ReadOnlySequence<byte> body);

    /// <summary>Completes the callers, after <see cref="Complete"/> returned true.</summary>
    public virtual void Finish()
    {
    }

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

    // The callers' continuations run asynchronously (never on the reader), so nothing is left to finish.
    public override bool Complete(MessageType type, ReadOnlySequence<byte> body)
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

        return false;
    }

    public override void Lost(Exception reason) => _reply.TrySetException(reason);
}
