using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;
using Xunit.Abstractions;

namespace TruthDb.Dataflow.Tests.Recovery;

/// <summary>
/// Simulated power loss at every storage operation of random workloads (rolls included), with every
/// damage variant: unsynced writes dropped, kept (a process crash), or torn at sector or byte
/// granularity and filled with nothing, zeros or garbage. At every third operation, recovery is also
/// run twice and crashed in the middle, and must give the same log. TRUTHDB_STRESS_WORKLOADS runs more workloads.
/// </summary>
public sealed class PowerLossTests(ITestOutputHelper output)
{
    private static readonly int Workloads = int.TryParse(Environment.GetEnvironmentVariable("TRUTHDB_STRESS_WORKLOADS"), out var n) ? n : 8;

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var seed = 1; seed <= Workloads; seed++)
        {
            data.Add(seed);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task PowerLoss_AtEveryOperation_RecoversDensePrefixWithEveryPromisedRecord(int seed)
    {
        var durability = seed % 2 == 0 ? Durability.Written : Durability.Sync;
        var workload = await SimulatedWorkload.RunAsync(seed, durability, producers: 1 + seed % 6, records: 260);
        Assert.Empty(workload.Failures);
        var operations = workload.Storage.OperationCount;
        var random = new Random(seed);
        var states = 0;
        for (var k = 0; k <= operations; k++)
        {
            var promised = workload.PromisedAt(k);
            foreach (var (mode, crashSeed) in new[] { (CrashMode.DropUnsynced, 0), (CrashMode.KeepUnsynced, 0), (CrashMode.TearUnsynced, random.Next()), (CrashMode.TearUnsynced, random.Next()) })
            {
                var context = $"seed {seed} ({durability}), crash before operation {k} of {operations}, {mode} {crashSeed}";
                var image = workload.Storage.CrashImage(k, mode, crashSeed);
                var records = await LogChecks.RecoverAsync(image, durability);
                var mustHave = mode == CrashMode.KeepUnsynced ? promised.Written : promised.Durable;
                LogChecks.AssertValidPrefix(records, workload, mustHave, context);

                states++;
                if (k % 3 != 0)
                {
                    continue;
                }

                // Recovery is idempotent: again, and after a crash in the middle of the first recovery.
                var again = await LogChecks.RecoverAsync(image, durability);
                LogChecks.AssertSame(records, again, context + ", second recovery");
                var midRecovery = image.CrashImage(random.Next(image.OperationCount + 1), CrashMode.TearUnsynced, random.Next());
                LogChecks.AssertSame(records, await LogChecks.RecoverAsync(midRecovery, durability), context + ", crash during recovery");
            }
        }

        output.WriteLine($"seed {seed}: {operations} operations, {states} crash states checked, {workload.Acknowledged.Count} records acknowledged");
        Assert.True(states >= 4 * operations);
    }
}
