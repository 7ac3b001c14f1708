// A minimal reproduction of JetStream losing acknowledged messages (docs/replication.md, "What
// JetStream promises, and what it lost here"): a publisher of numbered messages into an R3 stream
// on a 3-node nats-server cluster on loopback, while stream leaders and a follower are SIGKILLed
// and restarted; then each node is made leader in turn and what it serves is counted against what
// was acknowledged. Also measures publish throughput with JetStream's default sync and with
// sync_interval: always. Run it with perf/nats-chaos.sh.
using System.Globalization;
using TruthDb.Dataflow.NatsChaos;

ChaosOptions options;
try
{
    options = ChaosOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(ChaosOptions.Usage);
    return 2;
}

var root = options.Directory ?? Directory.CreateTempSubdirectory("nats-chaos-").FullName;
Directory.CreateDirectory(root);
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

try
{
    var summary = new List<string>();
    var anyLoss = false;
    foreach (var sync in options.Syncs)
    {
        foreach (var publisher in options.Publishers)
        {
            long rounds = 0, roundsWithLoss = 0, acked = 0, worstMissing = 0, duplicates = 0, notLed = 0, regressions = 0, roundsWithRegression = 0, worstRegression = 0;
            for (var round = 1; round <= options.Rounds; round++)
            {
                Console.WriteLine($"== round {round}/{options.Rounds}: publisher {publisher}, sync {sync}, {options.Seconds} s, kills {options.Kills} (L leader, F follower), next kill once {(options.WaitHealthy ? "every node is healthy" : "the restarted node runs")}");
                var outcome = await ChaosRound.RunAsync(options, root, publisher, sync, cancel.Token);
                var results = outcome.Audits;
                rounds++;
                regressions += outcome.Regressions;
                roundsWithRegression += outcome.Regressions > 0 ? 1 : 0;
                worstRegression = Math.Max(worstRegression, outcome.WorstRegression);
                var missing = results.Where(r => r.Led).Select(r => r.AckedMissing).DefaultIfEmpty(0).Max();
                worstMissing = Math.Max(worstMissing, missing);
                duplicates += results.Where(r => r.Led).Select(r => r.Duplicates).DefaultIfEmpty(0).Max();
                notLed += results.Count(r => !r.Led);
                roundsWithLoss += missing > 0 ? 1 : 0;
                acked += outcome.Acked;
            }

            anyLoss |= roundsWithLoss > 0;
            if (rounds == 0)
            {
                continue;
            }

            summary.Add(string.Create(CultureInfo.InvariantCulture, $"publisher {publisher,-7} sync {sync,-7}: {rounds} round(s), {acked} acknowledged, {roundsWithLoss} round(s) with acknowledged messages missing through some leader (worst {worstMissing}), duplicates {duplicates}, {roundsWithRegression} round(s) where the publisher found the leader's stream short of what was acknowledged ({regressions} time(s), worst {worstRegression} messages short), nodes never made leader {notLed}"));
        }
    }

    if (options.ThroughputSeconds > 0)
    {
        foreach (var sync in options.Syncs)
        {
            var rates = await ThroughputRun.RunAsync(options, root, sync, cancel.Token);
            Array.Sort(rates);
            summary.Add(string.Create(CultureInfo.InvariantCulture, $"throughput sync {sync,-7}: median {rates[rates.Length / 2]:N0} acknowledged messages/s (R3, 1 KiB, 1,024 in flight; runs: {string.Join(" ", rates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))})"));
        }
    }

    Console.WriteLine("== summary");
    foreach (var line in summary)
    {
        Console.WriteLine(line);
    }

    return anyLoss ? 1 : 0;
}
finally
{
    // A directory the tool made is removed also when a round fails (the clusters have stopped their
    // servers by then); one given with --dir is kept, with the servers' logs.
    if (options.Directory is null)
    {
        Directory.Delete(root, recursive: true);
    }
}
