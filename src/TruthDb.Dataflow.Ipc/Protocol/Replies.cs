using MessagePack;

namespace TruthDb.Dataflow.Ipc.Protocol;

// The bodies of the server's replies on the control channel (same array rules as the requests).

/// <summary>HelloReply: [protocolVersion, serverName, logId, maxMessageSize, writtenLsn, durableLsn, firstLsn, readOnly].</summary>
[MessagePackObject]
internal sealed class HelloReply
{
    [Key(0)]
    public int ProtocolVersion { get; set; }

    [Key(1)]
    public string ServerName { get; set; } = string.Empty;

    [Key(2)]
    public string LogId { get; set; } = string.Empty;

    [Key(3)]
    public int MaxMessageSize { get; set; }

    [Key(4)]
    public long WrittenLsn { get; set; }

    [Key(5)]
    public long DurableLsn { get; set; }

    [Key(6)]
    public long FirstLsn { get; set; }

    [Key(7)]
    public bool ReadOnly { get; set; }
}

/// <summary>AppendReply: [firstLsn, count, durable].</summary>
[MessagePackObject]
internal sealed class AppendReply
{
    [Key(0)]
    public long FirstLsn { get; set; }

    [Key(1)]
    public int Count { get; set; }

    [Key(2)]
    public bool Durable { get; set; }
}

/// <summary>Subscribed: [channel, startLsn].</summary>
[MessagePackObject]
internal sealed class SubscribedReply
{
    [Key(0)]
    public string Channel { get; set; } = string.Empty;

    [Key(1)]
    public long StartLsn { get; set; }
}

/// <summary>TruncateReply: [firstLsn].</summary>
[MessagePackObject]
internal sealed class TruncateReply
{
    [Key(0)]
    public long FirstLsn { get; set; }
}

/// <summary>StatsReply: [writtenLsn, durableLsn, firstLsn, logId, appends, batches, syncs, bytesWritten, pendingBytes, connections, subscriptions, syncMicroseconds, readOnly].</summary>
[MessagePackObject]
internal sealed class StatsReply
{
    [Key(0)]
    public long WrittenLsn { get; set; }

    [Key(1)]
    public long DurableLsn { get; set; }

    [Key(2)]
    public long FirstLsn { get; set; }

    [Key(3)]
    public string LogId { get; set; } = string.Empty;

    [Key(4)]
    public long Appends { get; set; }

    [Key(5)]
    public long Batches { get; set; }

    [Key(6)]
    public long Syncs { get; set; }

    [Key(7)]
    public long BytesWritten { get; set; }

    [Key(8)]
    public long PendingBytes { get; set; }

    [Key(9)]
    public int Connections { get; set; }

    [Key(10)]
    public int Subscriptions { get; set; }

    [Key(11)]
    public long SyncMicroseconds { get; set; }

    [Key(12)]
    public bool ReadOnly { get; set; }
}

/// <summary>Error: [code, message].</summary>
[MessagePackObject]
internal sealed class ErrorReply
{
    [Key(0)]
    public int Code { get; set; }

    [Key(1)]
    public string Message { get; set; } = string.Empty;
}
