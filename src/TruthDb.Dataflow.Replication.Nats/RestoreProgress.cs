namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>A snapshot of a restorer's position (<see cref="NatsRestorer.GetProgress"/>).</summary>
public readonly record struct RestoreProgress
{
    /// <summary>The last LSN the restored log holds (appended; durable once the log acknowledged it). 0 before the first run.</summary>
    public long RestoredLsn { get; init; }

    /// <summary>The stream's last LSN when the restorer last looked.</summary>
    public long StreamLsn { get; init; }

    /// <summary>LSNs the stream holds that the restored log does not yet.</summary>
    public long LagLsns => Math.Max(0, StreamLsn - RestoredLsn);

    /// <summary>Messages applied since the restorer was created.</summary>
    public long MessagesRestored { get; init; }

    /// <summary>Records appended since the restorer was created.</summary>
    public long RecordsRestored { get; init; }

    /// <summary>Payload bytes of those records.</summary>
    public long BytesRestored { get; init; }

    /// <summary>Times the restorer looked for its place in the stream again (the stream changed under it) or retried after an outage.</summary>
    public long Retries { get; init; }
}
