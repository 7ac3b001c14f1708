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

/// <summary>
/// StatsReply: [writtenLsn, durableLsn, firstLsn, logId, appends, batches, syncs, bytesWritten, pendingBytes,
/// connections, subscriptions, syncMicroseconds, readOnly, segments, cursors]. A server older than the last
/// two sends 13 fields: they are then empty.
/// </summary>
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

    [Key(13)]
    public StatsSegment[]? Segments { get; set; }

    [Key(14)]
    public StatsCursor[]? Cursors { get; set; }
}

/// <summary>A segment in StatsReply: [name, firstLsn, lastLsn, segmentSize, sealed: bool|nil, createdUnixMs: int64|nil].</summary>
[MessagePackObject]
internal sealed class StatsSegment
{
    // 9999-12-31T23:59:59.999Z, the last millisecond a DateTimeOffset holds.
    private const long MaxUnixMs = 253402300799999;

    [Key(0)]
    public string Name { get; set; } = string.Empty;

    [Key(1)]
    public long FirstLsn { get; set; }

    [Key(2)]
    public long LastLsn { get; set; }

    [Key(3)]
    public long SegmentSize { get; set; }

    [Key(4)]
    public bool? Sealed { get; set; }

    [Key(5)]
    public long? CreatedUnixMs { get; set; }

    /// <summary>The wire form of <paramref name="segment"/>.</summary>
    public static StatsSegment From(WalSegment segment) => new()
    {
        Name = segment.Name,
        FirstLsn = segment.FirstLsn,
        LastLsn = segment.LastLsn,
        SegmentSize = segment.SegmentSize,
        Sealed = segment.IsSealed,
        CreatedUnixMs = segment.CreatedAt?.ToUnixTimeMilliseconds(),
    };

    /// <summary>The segment this describes (a time outside what a <see cref="DateTimeOffset"/> holds is not known).</summary>
    public WalSegment ToSegment() => new(
        Name,
        FirstLsn,
        LastLsn,
        SegmentSize,
        Sealed,
        CreatedUnixMs is >= 0 and <= MaxUnixMs ? DateTimeOffset.FromUnixTimeMilliseconds(CreatedUnixMs.Value) : null);
}

/// <summary>A cursor in StatsReply: [name, committedLsn].</summary>
[MessagePackObject]
internal sealed class StatsCursor
{
    [Key(0)]
    public string Name { get; set; } = string.Empty;

    [Key(1)]
    public long CommittedLsn { get; set; }
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
