using TruthDb.Dataflow.Writing;

namespace TruthDb.Dataflow.Tests.Writing;

public sealed class BatchCompletionTests
{
    [Fact]
    public async Task Succeed_ASliceOfTheBatch_GivesEachAppendItsFirstLsn_AndTouchesNothingElse()
    {
        var batch = new[]
        {
            PendingAppend.Rent(new byte[3], 0),
            PendingAppend.Rent([new byte[1], new byte[2]], 3, 0),
            PendingAppend.Rent(new byte[4], 0),
            PendingAppend.Rent([new byte[1], new byte[1], new byte[1]], 3, 0),
            PendingAppend.Rent(new byte[5], 0),
        };

        BatchCompletion.Succeed(batch, 1, 3, firstLsn: 100);

        // A batch append of two records takes LSNs 100-101, the single one 102, the batch of three 103-105.
        Assert.Equal(100, await batch[1].Task.AsTask().WaitAsync(Timeouts.Unexpected));
        Assert.Equal(102, await batch[2].Task.AsTask().WaitAsync(Timeouts.Unexpected));
        Assert.Equal(103, await batch[3].Task.AsTask().WaitAsync(Timeouts.Unexpected));
        Assert.False(batch[0].Task.IsCompleted);
        Assert.False(batch[4].Task.IsCompleted);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Succeed_RunsNoContinuationInsideTheCall(int appends)
    {
        var batch = new PendingAppend[appends];
        var ranInside = new TaskCompletionSource<bool>[appends];
        using var inside = new ThreadLocal<bool>();
        for (var i = 0; i < appends; i++)
        {
            batch[i] = PendingAppend.Rent(new byte[1], 0);
            var done = ranInside[i] = new TaskCompletionSource<bool>();
            batch[i].Task.GetAwaiter().UnsafeOnCompleted(() => done.SetResult(inside.Value));
        }

        inside.Value = true;
        BatchCompletion.Succeed(batch, 0, appends, firstLsn: 1);
        inside.Value = false;

        foreach (var done in ranInside)
        {
            Assert.False(await done.Task.WaitAsync(Timeouts.Unexpected), "a continuation ran inside the call that acknowledged it (on the writer thread, that would be the writer)");
        }
    }
}
