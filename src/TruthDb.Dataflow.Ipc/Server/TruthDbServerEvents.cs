using Microsoft.Extensions.Logging;

namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>The server's log events.</summary>
internal static partial class TruthDbServerEvents
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Listening on {Path}")]
    public static partial void Listening(ILogger logger, string path);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Accepting connections on {Path} failed; the listener stops")]
    public static partial void AcceptFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Connection {Connection} opened")]
    public static partial void ConnectionOpened(ILogger logger, int connection);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Connection {Connection} closed")]
    public static partial void ConnectionClosed(ILogger logger, int connection);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Connection {Connection} closed: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, int connection, string reason);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Connection {Connection} failed")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, int connection);

    [LoggerMessage(EventId = 106, Level = LogLevel.Error, Message = "Request {Type} on connection {Connection} failed unexpectedly")]
    public static partial void RequestFailed(ILogger logger, Exception exception, string type, int connection);
}
