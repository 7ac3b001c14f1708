using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>
/// What a <see cref="NatsReplicator"/> ships where, and how. Copied and validated when the replicator
/// is created (<see cref="Validate"/>), never read live afterwards.
/// </summary>
public sealed class NatsReplicatorOptions
{
    /// <summary>The JetStream stream to publish into (required). It must hold this log's messages only.</summary>
    public string StreamName { get; set; } = string.Empty;

    /// <summary>
    /// The log's name in subjects; default: the log directory's name, made a valid subject token
    /// (<see cref="LogNames.FromDirectory"/>).
    /// </summary>
    public string? LogName { get; set; }

    /// <summary>The subject every record is published to; default <c>truthdb.&lt;LogName&gt;</c>.</summary>
    public string? Subject { get; set; }

    /// <summary>The durable cursor that records what the stream acknowledged; default <c>replicator-&lt;StreamName&gt;</c>.</summary>
    public string? CursorName { get; set; }

    /// <summary>
    /// How records travel: <see cref="NatsMessageFormat.Batch"/> (the default: consecutive records packed
    /// into one message) or <see cref="NatsMessageFormat.Record"/> (one message per record). A stream holds
    /// one format: the replicator refuses to ship one into a stream of the other.
    /// </summary>
    public NatsMessageFormat Format { get; set; } = NatsMessageFormat.Batch;

    /// <summary>Records in one batch, at most (1 – 1,000,000; default 1,024). Only for <see cref="NatsMessageFormat.Batch"/>.</summary>
    public int BatchMaxRecords { get; set; } = 1024;

    /// <summary>
    /// Bytes of one batch's body, at most (1 KiB – 64 MiB; default 256 KiB), and never more than the
    /// server's <c>max_payload</c> allows with the headers; a single larger record goes alone in its own
    /// batch. Only for <see cref="NatsMessageFormat.Batch"/>.
    /// </summary>
    public int BatchMaxBytes { get; set; } = 256 * 1024;

    /// <summary>Messages sent and not yet acknowledged, at most (1 – 65,536; default 1,024): a backpressure bound.</summary>
    public int MaxInFlight { get; set; } = 1024;

    /// <summary>
    /// Bytes of the messages sent and not yet acknowledged, at most (64 KiB – 1 GiB; default 16 MiB): the
    /// other backpressure bound, which keeps batches from queueing in the servers for longer than
    /// <see cref="AckTimeout"/>. One message is always let through, however large.
    /// </summary>
    public long MaxInFlightBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>How long a publish may wait for its acknowledgement before its outcome counts as unknown (default 5 s).</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the replicator keeps retrying without shipping anything (server down, no stream leader)
    /// before it gives up with a <see cref="ReplicationException"/> (default 2 minutes; <see cref="Timeout.InfiniteTimeSpan"/>: never).
    /// </summary>
    public TimeSpan RetryLimit { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the cursor is committed while acknowledgements come in (default 100 ms; it is also committed on stop).</summary>
    public TimeSpan CursorCommitInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Create the stream when it does not exist (default true); false: it must exist.</summary>
    public bool CreateStream { get; set; } = true;

    /// <summary>Replicas of a created stream (1 – 5; default 1). An existing stream must have this many.</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>Storage of a created stream (default <see cref="NatsStreamStorage.File"/>). An existing stream must use it.</summary>
    public NatsStreamStorage Storage { get; set; } = NatsStreamStorage.File;

    /// <summary>The duplicate window of a created stream (default 2 minutes; 1 s – 1 day). An existing stream must have one.</summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>A created stream's message limit (default -1: none). A full stream rejects publishes (discard new): it never drops shipped records.</summary>
    public long MaxMessages { get; set; } = -1;

    /// <summary>A created stream's size limit in bytes (default -1: none); like <see cref="MaxMessages"/>, a full stream rejects.</summary>
    public long MaxBytes { get; set; } = -1;

    /// <summary>Lifecycle events: reconciliation, retries, rejections.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>An <see cref="IMeterFactory"/> for the metrics; none: a process-wide meter.</summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (!LogNames.IsStreamName(StreamName))
        {
            throw new ArgumentException($"StreamName must be 1 to 255 characters without spaces, '.', '*', '>', '/' or '\\' (got '{StreamName}').", nameof(StreamName));
        }

        if (LogName is not null && !LogNames.IsToken(LogName))
        {
            throw new ArgumentException($"LogName must be one subject token: letters, digits, '-' and '_' (got '{LogName}').", nameof(LogName));
        }

        if (Subject is not null && !LogNames.IsSubject(Subject))
        {
            throw new ArgumentException($"Subject must be a literal subject: dot-separated tokens, no wildcards or spaces (got '{Subject}').", nameof(Subject));
        }

        Check(Enum.IsDefined(Format), nameof(Format), "Batch or Record", Format);
        Check(BatchMaxRecords is >= 1 and <= 1_000_000, nameof(BatchMaxRecords), "from 1 to 1,000,000", BatchMaxRecords);
        Check(BatchMaxBytes is >= 1024 and <= 64 * 1024 * 1024, nameof(BatchMaxBytes), "from 1,024 bytes (1 KiB) to 67,108,864 bytes (64 MiB)", BatchMaxBytes);
        Check(MaxInFlight is >= 1 and <= 65536, nameof(MaxInFlight), "from 1 to 65,536", MaxInFlight);
        Check(MaxInFlightBytes is >= 64 * 1024 and <= 1L << 30, nameof(MaxInFlightBytes), "from 65,536 bytes (64 KiB) to 1,073,741,824 bytes (1 GiB)", MaxInFlightBytes);
        Check(AckTimeout >= TimeSpan.FromMilliseconds(10) && AckTimeout <= TimeSpan.FromMinutes(10), nameof(AckTimeout), "from 10 ms to 10 minutes", AckTimeout);
        Check(RetryLimit == Timeout.InfiniteTimeSpan || RetryLimit >= TimeSpan.FromSeconds(1), nameof(RetryLimit), "at least 1 s, or infinite", RetryLimit);
        Check(CursorCommitInterval >= TimeSpan.FromMilliseconds(1) && CursorCommitInterval <= TimeSpan.FromMinutes(1), nameof(CursorCommitInterval), "from 1 ms to 1 minute", CursorCommitInterval);
        Check(Replicas is >= 1 and <= 5, nameof(Replicas), "from 1 to 5", Replicas);
        Check(Enum.IsDefined(Storage), nameof(Storage), "File or Memory", Storage);
        Check(DuplicateWindow >= TimeSpan.FromSeconds(1) && DuplicateWindow <= TimeSpan.FromDays(1), nameof(DuplicateWindow), "from 1 s to 1 day", DuplicateWindow);
        Check(MaxMessages is -1 or >= 1, nameof(MaxMessages), "-1 (none) or at least 1", MaxMessages);
        Check(MaxBytes is -1 or >= 1, nameof(MaxBytes), "-1 (none) or at least 1", MaxBytes);
    }

    internal NatsReplicatorOptions Copy() => (NatsReplicatorOptions)MemberwiseClone();

    private static void Check(bool ok, string name, string range, object value)
    {
        if (!ok)
        {
            throw new ArgumentException($"{name} must be {range} (got {value}).", name);
        }
    }
}
