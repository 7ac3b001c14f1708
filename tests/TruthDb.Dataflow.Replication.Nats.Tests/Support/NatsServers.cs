using NATS.Client.Core;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>
/// The NATS servers that <c>.ci/nats.sh start</c> runs for the tests (CI's <c>.ci/run</c> starts them):
/// a single node at <c>TRUTHDB_NATS_URL</c> (default <c>nats://127.0.0.1:14222</c>) and a 3-node
/// cluster at <c>TRUTHDB_NATS_CLUSTER_URLS</c> (default ports 14231-14233). A test that cannot reach
/// them fails, saying how to start them; it never skips.
/// </summary>
internal static class NatsServers
{
    public static string SingleUrl => Environment.GetEnvironmentVariable("TRUTHDB_NATS_URL") is { Length: > 0 } url ? url : "nats://127.0.0.1:14222";

    public static string ClusterUrls => Environment.GetEnvironmentVariable("TRUTHDB_NATS_CLUSTER_URLS") is { Length: > 0 } urls
        ? urls
        : "nats://127.0.0.1:14231,nats://127.0.0.1:14232,nats://127.0.0.1:14233";

    /// <summary>Connects to <paramref name="urls"/> or fails the test with what to do.</summary>
    public static async Task<NatsConnection> ConnectAsync(string urls)
    {
        var connection = new NatsConnection(new NatsOpts
        {
            Url = urls,
            Name = "truthdb-replication-tests",
            ConnectTimeout = TimeSpan.FromSeconds(5),
            RequestTimeout = TimeSpan.FromSeconds(3),
            SubPendingChannelCapacity = 1 << 20,
        });
        try
        {
            await connection.ConnectAsync();
            return connection;
        }
        catch (NatsException ex)
        {
            await connection.DisposeAsync();
            throw new InvalidOperationException(
                $"No NATS server answers at {urls}. The replication tests need real JetStream servers: run '.ci/nats.sh start' (it installs Debian's nats-server if missing), or point TRUTHDB_NATS_URL / TRUTHDB_NATS_CLUSTER_URLS at running ones.", ex);
        }
    }

    /// <summary>A stream name no other test uses.</summary>
    public static string UniqueStream(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..12];
}
