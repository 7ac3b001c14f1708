using System.Text.RegularExpressions;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>A <c>truthdb</c> verb started again and again and killed with SIGKILL at random moments.</summary>
internal static class RandomKills
{
    /// <summary>
    /// Starts <c>truthdb</c> with <paramref name="args"/> <paramref name="rounds"/> times and SIGKILLs it each
    /// time at a random moment: in about a quarter of the rounds once it printed <paramref name="started"/>
    /// (while it starts up), otherwise once it printed a line matching <paramref name="working"/>, then
    /// 0 to 150 ms later. Returns how many kills came while it was working.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, int rounds, Random random, string started, Regex working, CancellationToken ct)
    {
        var whileWorking = 0;
        for (var round = 0; round < rounds; round++)
        {
            await using var child = TruthdbProcess.Start(args);
            if (random.Next(4) == 0)
            {
                await child.WaitForOutputAsync(o => o.Contains(started, StringComparison.Ordinal), ct);
            }
            else
            {
                await child.WaitForOutputAsync(o => working.IsMatch(o), ct);
                whileWorking++;
            }

            await Task.Delay(random.Next(0, 150), ct);
            await child.KillAsync(ct);
        }

        return whileWorking;
    }
}
