namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>Where JetStream keeps a stream's messages (the stream's <c>storage</c> setting).</summary>
public enum NatsStreamStorage
{
    /// <summary>On disk on every replica: survives a restart of the servers.</summary>
    File = 0,

    /// <summary>In memory: lost when all replicas restart.</summary>
    Memory = 1,
}
