namespace TruthDb.Dataflow.Ipc;

/// <summary>Settings of a <see cref="TruthDbClient"/>.</summary>
public sealed class TruthDbClientOptions
{
    /// <summary>The shared secret the server was started with, if any; sent in Hello.</summary>
    public string? Token { get; set; }

    /// <summary>A name for this client, sent in Hello (for the server's logs).</summary>
    public string? ClientName { get; set; }

    /// <summary>
    /// True (default): an append completes only once it is durable (covered by an fdatasync), whatever
    /// durability the server's log runs with. False: it completes when the server's log acknowledges it
    /// (durable for a log running <c>Sync</c>, written for one running <c>Written</c>).
    /// </summary>
    public bool DurableAppends { get; set; } = true;

    /// <summary>Records messages a read or tail may have outstanding (default 8, each at most 64 KiB of payload): what the client buffers per subscription.</summary>
    public int SubscriptionCredit { get; set; } = 8;

    /// <summary>Appends coalesced into one Append message at most (default 4096, at most 65536); a message also stays under the server's maximum size.</summary>
    public int MaxBatchRecords { get; set; } = 4096;

    internal TruthDbClientOptions ValidatedCopy()
    {
        if (SubscriptionCredit is < 1 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(SubscriptionCredit), SubscriptionCredit, "SubscriptionCredit is 1 to 1024.");
        }

        if (MaxBatchRecords is < 1 or > Protocol.ProtocolConstants.MaxAppendRecords)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchRecords), MaxBatchRecords, $"MaxBatchRecords is 1 to {Protocol.ProtocolConstants.MaxAppendRecords}.");
        }

        return (TruthDbClientOptions)MemberwiseClone();
    }
}
