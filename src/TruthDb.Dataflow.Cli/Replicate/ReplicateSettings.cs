using TruthDb.Dataflow.Replication.Nats;

namespace TruthDb.Dataflow.Cli.Replicate;

/// <summary>The parsed arguments of <c>truthdb replicate</c>.</summary>
internal sealed record ReplicateSettings(
    string Directory,
    string NatsUrls,
    NatsReplicatorOptions Options,
    bool UntilCaughtUp,
    bool Audit,
    TimeSpan ProgressInterval);
