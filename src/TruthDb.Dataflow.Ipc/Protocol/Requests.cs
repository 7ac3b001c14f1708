using MessagePack;

namespace TruthDb.Dataflow.Ipc.Protocol;

// The bodies of the requests a client sends on the control channel. Each is a MessagePack array
// whose elements are the [Key] indexes below; a reader ignores elements past the ones it knows, and
// a newer writer only ever appends elements (docs/ipc-protocol.md, "Versioning").

/// <summary>Hello: [protocolVersion, token, clientName].</summary>
[MessagePackObject]
internal sealed class HelloRequest
{
    [Key(0)]
    public int ProtocolVersion { get; set; }

    [Key(1)]
    public string? Token { get; set; }

    [Key(2)]
    public string? ClientName { get; set; }
}

/// <summary>Append: [payloads, durable].</summary>
[MessagePackObject]
internal sealed class AppendRequest
{
    [Key(0)]
    public ReadOnlyMemory<byte>[] Payloads { get; set; } = [];

    [Key(1)]
    public bool Durable { get; set; } = true;
}

/// <summary>Read and Tail: [fromLsn, cursor, maxRecords, watermark, startAtFirstAvailable, credit].</summary>
[MessagePackObject]
internal sealed class SubscribeRequest
{
    [Key(0)]
    public long FromLsn { get; set; }

    [Key(1)]
    public string? Cursor { get; set; }

    [Key(2)]
    public long MaxRecords { get; set; }

    [Key(3)]
    public int Watermark { get; set; }

    [Key(4)]
    public bool StartAtFirstAvailable { get; set; }

    [Key(5)]
    public int Credit { get; set; }
}

/// <summary>CommitCursor: [name, lsn].</summary>
[MessagePackObject]
internal sealed class CommitCursorRequest
{
    [Key(0)]
    public string Name { get; set; } = string.Empty;

    [Key(1)]
    public long Lsn { get; set; }
}

/// <summary>Truncate: [beforeLsn].</summary>
[MessagePackObject]
internal sealed class TruncateRequest
{
    [Key(0)]
    public long BeforeLsn { get; set; }
}

/// <summary>The body of Stats and Ping: an empty array.</summary>
[MessagePackObject]
internal sealed class EmptyBody
{
    public static readonly EmptyBody Instance = new();
}
