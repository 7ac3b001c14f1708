using System.Diagnostics;
using NATS.Client.Core;

namespace TruthDb.Dataflow.NatsChaos;

/// <summary>
/// Publish throughput into an R3 file stream on a fresh 3-node cluster: 1 KiB messages, no headers,
/// 1,024 awaiting their acknowledgement; acknowledged messages a second over the run (after one
/// second of warm-up), one fresh stream a run.
/// </summary>
internal static class ThroughputRun
{
    public static async Task<double[]> RunAsync(ChaosOptions options, string root, string sync, CancellationToken ct)
    {
        await using var cluster = await LocalCluster.StartAsync(root, options.NatsServer, sync == "always", options.ServerDebug, ct);
        await using var connection = new NatsConnection(new NatsOpts { Url = cluster.ClientUrls, Name = "nats-throughput", SubPendingChannelCapacity = 1 << 16 });
        await connection.ConnectAsync();
        var rates = new double[options.ThroughputRuns];
        var payload = new byte[1024];
        for (var run = 0; run < options.ThroughputRuns; run++)
        {
            var api = new JetStreamApi(connection, $"TP{run}");
            var subject = $"tp.{run}";
            await api.CreateStreamAsync(subject, ct);
            await api.InfoAsync(TimeSpan.FromSeconds(30), ct);
            long acked = 0, counted = 0;
            await using (var pipe = new RequestPipe(connection, 1024, TimeSpan.FromSeconds(10)))
            {
                await pipe.StartAsync(ct);
                var clock = Stopwatch.StartNew();
                var warmup = TimeSpan.FromSeconds(1);
                var end = warmup + TimeSpan.FromSeconds(options.ThroughputSeconds);
                var started = false;
                long ackedAtStart = 0;
                TimeSpan startedAt = default;
                while (clock.Elapsed < end)
                {
                    if (!started && clock.Elapsed >= warmup)
                    {
                        started = true;
                        ackedAtStart = Interlocked.Read(ref acked);
                        startedAt = clock.Elapsed;
                    }

                    var reply = await pipe.SendAsync(subject, payload, null, ct);
                    _ = reply.ContinueWith(
                        t =>
                        {
                            if (t.Result is { TimedOut: false, NoResponders: false, Data: { } data } && data.AsSpan().IndexOf("\"error\""u8) < 0)
                            {
                                Interlocked.Increment(ref acked);
                            }
                        },
                        CancellationToken.None,
                        TaskContinuationOptions.ExecuteSynchronously,
                        TaskScheduler.Default);
                }

                counted = Interlocked.Read(ref acked) - ackedAtStart;
                rates[run] = counted / (clock.Elapsed - startedAt).TotalSeconds;
                await pipe.WaitIdleAsync(ct);
            }

            Console.WriteLine($"  throughput, sync {sync}, run {run + 1}: {rates[run]:N0} acknowledged messages/s ({counted} in {options.ThroughputSeconds} s)");
        }

        return rates;
    }
}
