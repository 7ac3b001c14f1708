namespace TruthDb.Dataflow.Replication.Nats.Sources;

/// <summary>
/// What the replicator needs of a log: its identity, its durable watermark, a read from an LSN and a
/// durable cursor. Two implementations: <see cref="ReaderSource"/> (a <see cref="WalReader"/>, no writer
/// lock: the replicator runs as its own process) and <see cref="WalSource"/> (the writer's <see cref="Wal"/>, in-process).
/// </summary>
internal interface IReplicationSource : IDisposable
{
    /// <summary>The log's identity (<see cref="Wal.LogId"/>).</summary>
    Guid LogId { get; }

    /// <summary>The log's durable watermark: what the replicator may ship.</summary>
    long DurableLsn { get; }

    /// <summary>The log's written watermark: the highest LSN a cursor may be committed at.</summary>
    long WrittenLsn { get; }

    /// <summary>Durable records from <paramref name="fromLsn"/> (or from the first the log still has, when retention removed it); with <paramref name="follow"/>, until cancelled.</summary>
    IAsyncEnumerable<WalRecord> ReadAsync(long fromLsn, bool follow, CancellationToken ct);

    /// <summary>The cursor's committed LSN; 0 when none.</summary>
    long GetCursor(string name);

    /// <summary>Commits the cursor durably.</summary>
    ValueTask CommitCursorAsync(string name, long lsn, CancellationToken ct);
}
