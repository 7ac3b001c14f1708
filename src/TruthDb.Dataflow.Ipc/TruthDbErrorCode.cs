namespace TruthDb.Dataflow.Ipc;

/// <summary>The error codes of the IPC protocol's Error message (docs/ipc-protocol.md lists what each means).</summary>
public enum TruthDbErrorCode
{
    /// <summary>Not an error code the client knows (a newer server).</summary>
    Unknown = 0,

    /// <summary>The message is not valid MessagePack, or a field has the wrong type or is missing.</summary>
    BadRequest = 1,

    /// <summary>The message type is not one the server knows.</summary>
    UnknownMessage = 2,

    /// <summary>A message's length prefix exceeds the maximum message size; the connection is closed after this reply.</summary>
    MessageTooLarge = 3,

    /// <summary>A request came before a successful Hello.</summary>
    HelloRequired = 4,

    /// <summary>The Hello's token is missing or wrong.</summary>
    Unauthorized = 5,

    /// <summary>The Hello asked for a protocol version the server does not speak.</summary>
    UnsupportedVersion = 6,

    /// <summary>An argument is out of range or invalid (an empty batch, a record too large, a bad cursor name, an LSN beyond the log).</summary>
    InvalidArgument = 7,

    /// <summary>The requested LSN is below the first record still in the log (retention removed it).</summary>
    OutOfRange = 8,

    /// <summary>The connection has as many open subscriptions or requests in flight as the server allows.</summary>
    TooManySubscriptions = 9,

    /// <summary>The log has faulted (a write or sync failed); nothing is acknowledged any more.</summary>
    LogFaulted = 10,

    /// <summary>The disk is full: no room for the segment the records need.</summary>
    LogFull = 11,

    /// <summary>The server is shutting down.</summary>
    ShuttingDown = 12,

    /// <summary>
    /// A record in the log is damaged, or (a read-only server) the log cannot be read past a point that
    /// is either damage or a torn last write no writer has truncated yet; the message names segment and offset.
    /// </summary>
    Corrupted = 13,

    /// <summary>An unexpected server error; the message says what.</summary>
    Internal = 14,

    /// <summary>
    /// A write request (Append, CommitCursor, Truncate) to a server that serves its log read-only (a
    /// replica: <c>truthdb serve --read-only</c>); nothing was done, the connection goes on. Writes go
    /// to the log's writer.
    /// </summary>
    ReadOnly = 15,
}
