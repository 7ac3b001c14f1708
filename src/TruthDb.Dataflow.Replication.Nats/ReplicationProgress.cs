namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>A snapshot of a replicator's position (<see cref="NatsReplicator.GetProgress"/>).</summary>
public readonly record struct ReplicationProgress
{
    /// <summary>The last LSN such that it and every LSN before it are in the stream (0 before the first reconciliation).</summary>
    public long ShippedLsn { get; init; }

    /// <summary>The log's durable watermark when the snapshot was taken.</summary>
    public long DurableLsn { get; init; }

    /// <summary>LSNs durable in the log and not yet acknowledged by the stream.</summary>
    public long LagLsns => Math.Max(0, DurableLsn - ShippedLsn);

    /// <summary>Messages sent and not yet acknowledged.</summary>
    public long InFlight { get; init; }

    /// <summary>Messages acknowledged since the replicator was created (a batch counts once).</summary>
    public long MessagesShipped { get; init; }

    /// <summary>Records acknowledged since the replicator was created.</summary>
    public long RecordsShipped { get; init; }

    /// <summary>Payload bytes of those records.</summary>
    public long BytesShipped { get; init; }

    /// <summary>Times the replicator reconciled again after an unknown publish outcome.</summary>
    public long Retries { get; init; }

    /// <summary>The cursor's committed LSN, as this replicator last wrote or read it.</summary>
    public long CursorLsn { get; init; }
}
