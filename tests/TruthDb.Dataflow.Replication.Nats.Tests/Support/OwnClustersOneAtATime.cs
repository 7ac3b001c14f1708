namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>
/// The tests that start their own 3-node cluster and kill its nodes run one after another: run side
/// by side on a 2-core machine, two clusters' elections and catch-ups starve each other (a restarted
/// replica took longer than a test's whole budget to become current).
/// </summary>
[CollectionDefinition(Name)]
public sealed class OwnClustersOneAtATime
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Own 3-node clusters, one at a time";
}
