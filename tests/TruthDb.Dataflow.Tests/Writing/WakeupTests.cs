using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Writing;

/// <summary>
/// Lost-wakeup hunting: the hand-off between a producer posting and the writer finishing a batch is
/// lock-free, so a missing full fence shows up as an append that is never written. Many short runs
/// of tight append loops; each append must complete (a generous timeout only fails a hang).
/// </summary>
public sealed class WakeupTests
{
    [Theory]
    [InlineData(Durability.Written, 1)]
    [InlineData(Durability.Written, 2)]
    [InlineData(Durability.Sync, 1)]
    [InlineData(Durability.Sync, 3)]
    public async Task TightAppendLoops_NeverStall(Durability durability, int producers)
    {
        for (var run = 0; run < 6; run++)
        {
            var options = SimulatedWorkload.OptionsFor(new SimulatedStorage("sim://wakeup"), durability);
            options.SegmentSize = 1024 * 1024;
            await using var wal = await Wal.OpenAsync(options);
            var payload = new byte[16];
            var tasks = Enumerable.Range(0, producers).Select(_ => Task.Run(async () =>
            {
                for (var i = 0; i < 20_000; i++)
                {
                    await wal.AppendAsync(payload).AsTask().WaitAsync(Timeouts.Unexpected);
                }
            }));
            await Task.WhenAll(tasks);
            Assert.Equal(20_000 * producers, wal.WrittenLsn);
        }
    }
}
