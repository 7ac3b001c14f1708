using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>Which node leads a stream of an <see cref="OwnCluster"/>, and moving the leadership with the stream leader stepdown API.</summary>
internal static class StreamLeaders
{
    /// <summary>The node (1-3) that leads <paramref name="stream"/> now; waits while it has none.</summary>
    public static async Task<int> CurrentAsync(INatsConnection nats, string stream, CancellationToken ct)
    {
        var js = new NatsJSContext(nats);
        while (true)
        {
            try
            {
                var info = await js.GetStreamAsync(stream, cancellationToken: ct);
                if (info.Info.Cluster?.Leader is { Length: > 1 } leader)
                {
                    return int.Parse(leader.AsSpan(1), CultureInfo.InvariantCulture);
                }
            }
            catch (NatsException)
            {
                // No leader for a moment: ask again.
            }

            // A poll interval (an election has no event to await); the test's token bounds the wait.
            await Task.Delay(50, ct);
        }
    }

    /// <summary>Steps the leader down until node <paramref name="node"/> leads (2.10 picks the next leader itself).</summary>
    public static async Task MakeLeaderAsync(INatsConnection nats, string stream, int node, CancellationToken ct)
    {
        while (true)
        {
            var current = await CurrentAsync(nats, stream, ct);
            if (current == node)
            {
                return;
            }

            try
            {
                await nats.RequestAsync<byte[], byte[]>("$JS.API.STREAM.LEADER.STEPDOWN." + stream, [], cancellationToken: ct);
            }
            catch (NatsException)
            {
                // The request timed out in the election it caused: look again.
            }

            while (await CurrentAsync(nats, stream, ct) == current)
            {
                await Task.Delay(50, ct);
            }
        }
    }

    /// <summary>Waits until the stream has a leader and every other replica reports itself current and online.</summary>
    public static async Task WaitForReplicasCurrentAsync(INatsConnection nats, string stream, int replicas, CancellationToken ct)
    {
        var js = new NatsJSContext(nats);
        while (true)
        {
            try
            {
                var info = await js.GetStreamAsync(stream, cancellationToken: ct);
                if (info.Info.Cluster is { Leader: not null, Replicas: { } others } && others.Count == replicas - 1 && others.All(r => r.Current && !r.Offline))
                {
                    return;
                }
            }
            catch (NatsException)
            {
                // No leader for a moment: ask again.
            }

            await Task.Delay(50, ct);
        }
    }
}
