namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>What <see cref="StreamAuditor"/> compares: which stream, against which cursor, and how much it lists.</summary>
public sealed class StreamAuditOptions
{
    /// <summary>The JetStream stream to read (required).</summary>
    public string StreamName { get; set; } = string.Empty;

    /// <summary>The replicator's cursor, whose LSN the stream must reach; default <c>replicator-&lt;StreamName&gt;</c>.</summary>
    public string? CursorName { get; set; }

    /// <summary>Findings kept in <see cref="StreamAuditReport.Findings"/>, at most (1 – 10,000; default 20); all are counted.</summary>
    public int MaxListed { get; set; } = 20;

    /// <summary>Message gets in flight at once (1 – 4,096; default 128).</summary>
    public int Concurrency { get; set; } = 128;

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (!LogNames.IsStreamName(StreamName))
        {
            throw new ArgumentException($"StreamName must be 1 to 255 characters without spaces, '.', '*', '>', '/' or '\\' (got '{StreamName}').", nameof(StreamName));
        }

        if (MaxListed is < 1 or > 10_000)
        {
            throw new ArgumentException($"MaxListed must be from 1 to 10,000 (got {MaxListed}).", nameof(MaxListed));
        }

        if (Concurrency is < 1 or > 4096)
        {
            throw new ArgumentException($"Concurrency must be from 1 to 4,096 (got {Concurrency}).", nameof(Concurrency));
        }
    }
}
