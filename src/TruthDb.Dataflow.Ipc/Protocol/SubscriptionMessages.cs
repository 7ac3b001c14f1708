using MessagePack;

namespace TruthDb.Dataflow.Ipc.Protocol;

// The messages on a subscription channel: Records and End from the server, Credit from the client.

/// <summary>Records: [firstLsn, payloads]; the records have consecutive LSNs from firstLsn.</summary>
[MessagePackObject]
internal sealed class RecordsBody
{
    [Key(0)]
    public long FirstLsn { get; set; }

    [Key(1)]
    public byte[][] Payloads { get; set; } = [];
}

/// <summary>End: [lastLsn, reason]; reason 0: the read reached its end, 1: the server is shutting down.</summary>
[MessagePackObject]
internal sealed class EndBody
{
    public const int Completed = 0;
    public const int ShuttingDown = 1;

    [Key(0)]
    public long LastLsn { get; set; }

    [Key(1)]
    public int Reason { get; set; }
}

/// <summary>Credit: [messages]: the server may send that many more Records messages.</summary>
[MessagePackObject]
internal sealed class CreditBody
{
    [Key(0)]
    public int Messages { get; set; }
}
