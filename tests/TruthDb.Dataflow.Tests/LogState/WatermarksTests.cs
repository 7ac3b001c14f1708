using TruthDb.Dataflow.LogState;

namespace TruthDb.Dataflow.Tests.LogState;

public sealed class WatermarksTests
{
    [Fact]
    public async Task Publish_AfterAReaderTookTheSignal_CompletesIt()
    {
        var watermarks = new Watermarks(0);
        var written = watermarks.NextChange();
        watermarks.PublishWritten(1);
        await written.WaitAsync(Timeouts.Unexpected);

        var durable = watermarks.NextChange();
        watermarks.PublishDurable(1);
        await durable.WaitAsync(Timeouts.Unexpected);
        Assert.Equal((1, 1), (watermarks.Written, watermarks.Durable));
    }

    [Fact]
    public async Task Publish_WithNoReaderWaiting_KeepsTheSignalForTheNextReader()
    {
        var watermarks = new Watermarks(0);
        var first = watermarks.NextChange();
        watermarks.PublishWritten(1);
        Assert.True(first.IsCompleted);

        // Nobody took the signal since: these publishes leave it as it is.
        var taken = watermarks.NextChange();
        Assert.False(taken.IsCompleted);
        watermarks.PublishWritten(2);
        Assert.True(taken.IsCompleted, "the reader that took the signal before the publish is woken");
        watermarks.PublishWritten(3);
        watermarks.PublishDurable(3);

        var next = watermarks.NextChange();
        Assert.False(next.IsCompleted);
        watermarks.PublishDurable(4);
        await next.WaitAsync(Timeouts.Unexpected);
    }

    [Fact]
    public void Publish_WithNoReaderWaiting_AllocatesNothing()
    {
        var watermarks = new Watermarks(0);
        watermarks.PublishWritten(1);
        watermarks.PublishDurable(1);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var lsn = 2; lsn < 1000; lsn++)
        {
            watermarks.PublishWritten(lsn);
            watermarks.PublishDurable(lsn);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task Close_WithAReaderWaiting_WakesIt()
    {
        var watermarks = new Watermarks(5);
        var signal = watermarks.NextChange();
        watermarks.Close();
        await signal.WaitAsync(Timeouts.Unexpected);
        Assert.True(watermarks.IsClosed);
    }

    [Fact]
    public async Task NextChange_RacingPublishes_NeverMissesOne()
    {
        // A reader that takes the signal, looks at the position, and waits only when it has not moved
        // must see every publish, however the two interleave.
        var watermarks = new Watermarks(0);
        const long last = 20_000;
        var reader = Task.Run(async () =>
        {
            long seen = 0;
            while (seen < last)
            {
                var changed = watermarks.NextChange();
                var now = watermarks.Written;
                if (now > seen)
                {
                    seen = now;
                    continue;
                }

                await changed.WaitAsync(Timeouts.Unexpected);
            }

            return seen;
        });

        for (long lsn = 1; lsn <= last; lsn++)
        {
            watermarks.PublishWritten(lsn);
        }

        Assert.Equal(last, await reader.WaitAsync(Timeouts.Unexpected));
    }
}
