namespace TruthDb.Dataflow.Ipc.Protocol;

/// <summary>
/// The type of a message: the first element of every message's envelope (see docs/ipc-protocol.md).
/// Requests are 1-31, subscription-channel messages 32-63, replies 64 and up; 127 is an error.
/// </summary>
internal enum MessageType
{
    Hello = 1,
    Append = 2,
    Read = 3,
    Tail = 4,
    CommitCursor = 5,
    Stats = 6,
    Truncate = 7,
    Ping = 8,

    Records = 32,
    End = 33,
    Credit = 34,

    HelloReply = 64,
    AppendReply = 65,
    Subscribed = 66,
    Ok = 67,
    StatsReply = 68,
    TruncateReply = 69,
    Pong = 70,

    Error = 127,
}
