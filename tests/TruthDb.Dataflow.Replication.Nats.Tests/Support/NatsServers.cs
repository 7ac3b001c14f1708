using NATS.Client.Core;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>
/// The NATS servers that <c>.ci/nats.sh start</c> runs for the tests (<c>.ci/test</c> starts them on
/// ports free for the run and exports their URLs): a single node at <c>TRUTHDB_NATS_URL</c> and a
/// 3-node cluster at <c>TRUTHDB_NATS_CLUSTER_URLS</c>. Without them a test fails, saying how to
/// start them; it never skips.
/// </summary>
internal static class NatsServers
{
    private const string HowToStart =
        "The replication tests need real JetStream servers: run '.ci/test', or 'state=$(.ci/nats.sh start) && . \"$state/env\"' before 'dotnet test' (it installs nats-server 2.10 if missing), or point TRUTHDB_NATS_URL / TRUTHDB_NATS_CLUSTER_URLS at running ones.";

    public static string SingleUrl => Required("TRUTHDB_NATS_URL");

    public static string ClusterUrls => Required("TRUTHDB_NATS_CLUSTER_URLS");

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
                $"No NATS server answers at {urls}. {HowToStart}", ex);
        }
    }

    private static string Required(string variable) => Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
        ? value
        : throw new InvalidOperationException($"{variable} is not set. {HowToStart}");

    /// <summary>A stream name no other test uses.</summary>
    public static string UniqueStream(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..12];
}
