using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>
/// What a <see cref="NatsRestorer"/> reads and how it writes the log it rebuilds. Copied and validated
/// when the restorer is created (<see cref="Validate"/>), never read live afterwards.
/// </summary>
public sealed class NatsRestorerOptions
{
    /// <summary>The JetStream stream a replicator fed (required): batches or one record per message, of one log.</summary>
    public string StreamName { get; set; } = string.Empty;

    /// <summary>When the restored log acknowledges a record: <see cref="Dataflow.Durability.Sync"/> (the default: a restored record survives a power loss) or <see cref="Dataflow.Durability.Written"/>.</summary>
    public Durability Durability { get; set; } = Durability.Sync;

    /// <summary>The segment size of a restored log the restorer creates (default 64 MiB; as <see cref="WalOptions.SegmentSize"/>). An existing one keeps its own.</summary>
    public long SegmentSize { get; set; } = 64L * 1024 * 1024;

    /// <summary>Messages read from the stream leader at once (1 – 1,024; default 64).</summary>
    public int Concurrency { get; set; } = 64;

    /// <summary>
    /// How long the restorer keeps retrying without restoring anything (server down, no stream leader)
    /// before it gives up with a <see cref="ReplicationException"/> (default 2 minutes; <see cref="Timeout.InfiniteTimeSpan"/>: never).
    /// </summary>
    public TimeSpan RetryLimit { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Lifecycle events: the log created or resumed, where it resumed, retries.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>An <see cref="IMeterFactory"/> for the restored log's own metrics; none: a process-wide meter.</summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (!LogNames.IsStreamName(StreamName))
        {
            throw new ArgumentException($"StreamName must be 1 to 255 characters without spaces, '.', '*', '>', '/' or '\\' (got '{StreamName}').", nameof(StreamName));
        }

        if (!Enum.IsDefined(Durability))
        {
            throw new ArgumentException($"Durability must be Sync or Written (got {Durability}).", nameof(Durability));
        }

        if (Concurrency is < 1 or > 1024)
        {
            throw new ArgumentException($"Concurrency must be from 1 to 1,024 (got {Concurrency}).", nameof(Concurrency));
        }

        if (RetryLimit != Timeout.InfiniteTimeSpan && RetryLimit < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException($"RetryLimit must be at least 1 s, or infinite (got {RetryLimit}).", nameof(RetryLimit));
        }

        // The restored log's options are checked as the log checks them, naming the option.
        WalOptions(Path.GetTempPath(), Guid.NewGuid(), 1).Validate();
    }

    internal NatsRestorerOptions Copy() => (NatsRestorerOptions)MemberwiseClone();

    /// <summary>The options of the restored log in <paramref name="directory"/>: the source's id and first LSN.</summary>
    internal WalOptions WalOptions(string directory, Guid logId, long firstLsn) => new()
    {
        Directory = directory,
        LogId = logId,
        FirstLsn = firstLsn,
        Durability = Durability,
        SegmentSize = SegmentSize,
        MeterFactory = MeterFactory,
    };
}
