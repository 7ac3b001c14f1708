using System.Diagnostics;
using NATS.Client.Core;

namespace TruthDb.Dataflow.NatsChaos;

/// <summary>
/// One round: a fresh 3-node cluster and R3 stream; the publisher runs for the round's time while
/// the driver SIGKILLs the stream leader (and a follower), each time restarting the node and waiting
/// until it reports healthy again; then, once every replica reports current, each node is made
/// leader in turn and what it serves is read and counted.
/// </summary>
internal static class ChaosRound
{
    public static async Task<RoundOutcome> RunAsync(ChaosOptions options, string root, string publisher, string sync, CancellationToken ct)
    {
        await using var cluster = await LocalCluster.StartAsync(root, options.NatsServer, sync == "always", options.ServerDebug, ct);
        await using var connection = new NatsConnection(new NatsOpts
        {
            Url = cluster.ClientUrls,
            Name = "nats-chaos",
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(100),
            ReconnectWaitMax = TimeSpan.FromMilliseconds(500),
            RequestTimeout = TimeSpan.FromSeconds(2),
            SubPendingChannelCapacity = 1 << 16,
        });
        await connection.ConnectAsync();
        Console.WriteLine($"  cluster {Path.GetFileName(cluster.Root)} (server logs kept in logs/{Path.GetFileName(cluster.Root)} beside it)");
        var api = new JetStreamApi(connection, "CHAOS");
        const string subject = "chaos.numbers";
        await api.CreateStreamAsync(subject, ct);
        await api.LedInfoAsync(TimeSpan.FromSeconds(30), ct);

        var capacity = ((long)options.Rate * (options.Seconds + 5)) + 1;
        var chaos = new ChaosPublisher(connection, api, subject, publisher, options.Rate, options.Payload, capacity);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(options.Seconds));
        var publishing = chaos.RunAsync(options.InFlight, stop.Token);
        var kills = await DriveAsync(cluster, api, options, stop.Token);
        await publishing;
        Console.WriteLine($"  published up to {chaos.Highest}, acknowledged {chaos.AckedCount} ({chaos.DuplicateAcks} as duplicate), refused {chaos.Refusals}, unanswered {chaos.Timeouts}, epochs {chaos.Epochs}, regressions seen by the publisher {chaos.Regressions.Count}; kills: {string.Join(", ", kills)}");

        foreach (var node in cluster.Nodes)
        {
            if (!cluster.IsRunning(node))
            {
                cluster.Start(node);
            }

            await cluster.WaitHealthyAsync(node, TimeSpan.FromSeconds(60), ct);
        }

        var settled = await SettleAsync(api, ct);
        Console.WriteLine(settled is { AllCurrent: true }
            ? $"  settled: leader {settled.Leader}, every replica current"
            : $"  NOT settled within 60 s: {settled}");

        var results = new List<AuditResult>();
        foreach (var node in cluster.Nodes)
        {
            var clock = Stopwatch.StartNew();
            var result = await StreamAudit.ReadThroughAsync(connection, api, node.Name, chaos.State.ToArray(), ct);
            Console.WriteLine($"  {result} ({clock.Elapsed.TotalSeconds:0} s)");
            results.Add(result);
        }

        var worstRegression = chaos.Regressions.Select(r => r.HighestAcked - r.StreamLast).DefaultIfEmpty(0).Max();
        return new RoundOutcome(chaos.AckedCount, chaos.Regressions.Count, worstRegression, results);
    }

    /// <summary>The kills of <see cref="ChaosOptions.Kills"/>, evenly spread over the publishing time.</summary>
    private static async Task<List<string>> DriveAsync(LocalCluster cluster, JetStreamApi api, ChaosOptions options, CancellationToken stop)
    {
        var plan = options.Kills.Select(c => c == 'L').ToList(); // true: the leader
        var done = new List<string>();
        var clock = Stopwatch.StartNew();
        var spacing = options.Seconds / (double)(plan.Count + 1);
        for (var i = 0; i < plan.Count; i++)
        {
            var due = TimeSpan.FromSeconds(spacing * (i + 1)) - clock.Elapsed;
            try
            {
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, stop);
                }

                if (options.WaitHealthy)
                {
                    foreach (var node in cluster.Nodes)
                    {
                        await cluster.WaitHealthyAsync(node, TimeSpan.FromSeconds(60), stop);
                    }
                }

                var info = await api.LedInfoAsync(TimeSpan.FromSeconds(30), stop);
                var victim = plan[i]
                    ? cluster.ByName(info.Leader)
                    : cluster.Nodes.First(n => n.Name != info.Leader);
                cluster.Kill(victim);
                var killedAt = clock.Elapsed;
                var successor = plan[i] ? await NextLeaderAsync(api, victim.Name, stop) : null;
                done.Add($"{(plan[i] ? "leader" : "follower")} {victim.Name} at {killedAt.TotalSeconds:0.0} s{(successor is null ? string.Empty : $" (then {successor.Leader} led; {Replicas(successor)})")}");
                var downFor = TimeSpan.FromSeconds(options.DownSeconds) - (clock.Elapsed - killedAt);
                if (downFor > TimeSpan.Zero)
                {
                    await Task.Delay(downFor, stop);
                }

                cluster.Start(victim);
                if (options.WaitHealthy)
                {
                    await cluster.WaitHealthyAsync(victim, TimeSpan.FromSeconds(60), stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
        }

        return done;
    }

    private static async Task<StreamInfo> NextLeaderAsync(JetStreamApi api, string killed, CancellationToken ct)
    {
        while (true)
        {
            var info = await api.LedInfoAsync(TimeSpan.FromSeconds(60), ct);
            if (info.Leader != killed)
            {
                return info;
            }

            await Task.Delay(50, ct);
        }
    }

    public static string Replicas(StreamInfo info) =>
        string.Join(", ", info.Replicas.Select(r => $"{r.Name} {(r.Offline ? "offline" : r.Current ? "current" : "not current")} lag {r.Lag}"));

    private static async Task<StreamInfo?> SettleAsync(JetStreamApi api, CancellationToken ct)
    {
        StreamInfo? info = null;
        for (var i = 0; i < 120; i++)
        {
            info = await api.LedInfoAsync(TimeSpan.FromSeconds(60), ct);
            if (info.AllCurrent)
            {
                return info;
            }

            await Task.Delay(500, ct);
        }

        return info;
    }
}

/// <summary>What the publisher saw in a round, and what each node served as leader.</summary>
/// <para>WorstRegression: the most acknowledged messages a leader's stream lacked when the publisher reconciled.</para>
internal sealed record RoundOutcome(long Acked, int Regressions, long WorstRegression, IReadOnlyList<AuditResult> Audits);
