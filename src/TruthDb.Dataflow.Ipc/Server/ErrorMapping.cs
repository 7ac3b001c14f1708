using MessagePack;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>Which error code an exception from decoding or from the log becomes.</summary>
internal static class ErrorMapping
{
    public static (TruthDbErrorCode Code, string Message) From(Exception ex) => ex switch
    {
        MessagePackSerializationException => (TruthDbErrorCode.BadRequest, "The message body does not match its type: " + Innermost(ex).Message),
        MessageTooLargeException => (TruthDbErrorCode.MessageTooLarge, ex.Message),
        TruthDbException t => (t.ErrorCode, t.Message),
        ArgumentOutOfRangeException a => (TruthDbErrorCode.OutOfRange, WithoutParameter(a)),
        ArgumentException a => (TruthDbErrorCode.InvalidArgument, WithoutParameter(a)),
        WalFaultedException => (TruthDbErrorCode.LogFaulted, ex.Message),
        WalFullException => (TruthDbErrorCode.LogFull, ex.Message),
        WalCorruptedException => (TruthDbErrorCode.Corrupted, ex.Message),

        // A read-only server's reader at an end of the log it cannot read past (a torn last write or
        // damage, which no writer's watermark tells apart): the message says which segment and offset.
        InvalidDataException => (TruthDbErrorCode.Corrupted, ex.Message),
        ObjectDisposedException or OperationCanceledException => (TruthDbErrorCode.ShuttingDown, "The server is shutting down."),
        _ => (TruthDbErrorCode.Internal, ex.GetType().Name + ": " + ex.Message),
    };

    // The message without .NET's " (Parameter 'x')" and "Actual value was y." suffixes: a client
    // speaks the protocol, not the engine's parameter names.
    private static string WithoutParameter(ArgumentException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return cut >= 0 ? message[..cut] : message;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is { } inner)
        {
            ex = inner;
        }

        return ex;
    }
}
