using TruthDb.Dataflow.LogState;

namespace TruthDb.Dataflow.Tests.LogState;

public sealed class WatermarksTests
{
    [Fact]
    public async Task Publish_AfterAReaderTookTheSignal_CompletesIt()
    {
        var watermarks = new Watermarks(0);
        var written = watermarks.NextWrittenChange();
        watermarks.PublishWritten(1);
        await written.WaitAsync(Timeouts.Unexpected);

        var durable = watermarks.NextDurableChange();
        watermarks.PublishDurable(1);
        await durable.WaitAsync(Timeouts.Unexpected);
        Assert.Equal((1, 1), (watermarks.Written, watermarks.Durable));
    }

    [Fact]
    public async Task AWrittenPublish_DoesNotWakeDurableWaiters_ADurableOneThatMovesWrittenWakesBoth()
    {
        var watermarks = new Watermarks(0);
        var durable = watermarks.NextDurableChange();
        watermarks.PublishWritten(1);
        Assert.False(durable.IsCompleted, "a durable waiter was woken by a write it cannot read yet");
        watermarks.PublishDurable(1);
        await durable.WaitAsync(Timeouts.Unexpected);

        // Durable moving past written moves written too (recovery's case): both kinds of waiter wake.
        var written = watermarks.NextWrittenChange();
        durable = watermarks.NextDurableChange();
        watermarks.PublishDurable(5);
        await Task.WhenAll(written, durable).WaitAsync(Timeouts.Unexpected);
        Assert.Equal((5, 5), (watermarks.Written, watermarks.Durable));

        // Durable catching up with written wakes only durable waiters.
        watermarks.PublishWritten(7);
        written = watermarks.NextWrittenChange();
        watermarks.PublishDurable(7);
        Assert.False(written.IsCompleted, "a written waiter was woken though written did not move");
    }

    [Fact]
    public async Task Publish_WithNoReaderWaiting_KeepsTheSignalForTheNextReader()
    {
        var watermarks = new Watermarks(0);
        var first = watermarks.NextWrittenChange();
        watermarks.PublishWritten(1);
        Assert.True(first.IsCompleted);

        // Nobody took the signal since: these publishes leave it as it is.
        var taken = watermarks.NextWrittenChange();
        Assert.False(taken.IsCompleted);
        watermarks.PublishWritten(2);
        Assert.True(taken.IsCompleted, "the reader that took the signal before the publish is woken");
        watermarks.PublishWritten(3);
        watermarks.PublishDurable(3);

        var next = watermarks.NextDurableChange();
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
        var written = watermarks.NextWrittenChange();
        var durable = watermarks.NextDurableChange();
        watermarks.Close();
        await Task.WhenAll(written, durable).WaitAsync(Timeouts.Unexpected);
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
                var changed = watermarks.NextWrittenChange();
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
