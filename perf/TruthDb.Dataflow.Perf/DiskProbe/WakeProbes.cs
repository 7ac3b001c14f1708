using System.Diagnostics;

namespace TruthDb.Dataflow.Perf.DiskProbe;

/// <summary>
/// What a hand-off between threads costs on this machine, next to the disk's figures: every batch a
/// log writer commits pays at least one (work reaches the writer thread) and every acknowledgement one
/// more (a continuation on the thread pool). Each operation is one hand-off; the latency runs from the
/// signal to the woken code running. No bytes are written.
/// </summary>
internal static class WakeProbes
{
    /// <summary>Two threads take turns through two <see cref="SemaphoreSlim"/>s (what a blocking queue of a dedicated thread waits on).</summary>
    public static ProbeResult SemaphoreWake(string name, TimeSpan duration)
    {
        using var toWriter = new SemaphoreSlim(0);
        using var toProducer = new SemaphoreSlim(0);
        var latencies = new LatencyHistogram();
        long signalledAt = 0;
        var stop = false;
        var writer = new Thread(() =>
        {
            while (true)
            {
                toWriter.Wait();
                if (Volatile.Read(ref stop))
                {
                    return;
                }

                latencies.Record(Stopwatch.GetTimestamp() - Volatile.Read(ref signalledAt));
                toProducer.Release();
            }
        })
        { IsBackground = true, Name = "probe.writer" };
        writer.Start();

        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long now;
        do
        {
            Volatile.Write(ref signalledAt, Stopwatch.GetTimestamp());
            toWriter.Release();
            toProducer.Wait();
            now = Stopwatch.GetTimestamp();
        }
        while (now < end);

        Volatile.Write(ref stop, true);
        toWriter.Release();
        writer.Join();
        return DiskProbes.Result(name, 0, latencies, 0, start, now);
    }

    /// <summary>One work item at a time queued to the thread pool while the queuing thread blocks (the pool's workers are idle, as between a writer's batches).</summary>
    public static ProbeResult ThreadPoolHop(string name, TimeSpan duration)
    {
        using var ran = new ManualResetEventSlim(false);
        var latencies = new LatencyHistogram();
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long now;
        do
        {
            ran.Reset();
            ThreadPool.UnsafeQueueUserWorkItem(
                static state =>
                {
                    var (queuedAt, histogram, done) = state;
                    histogram.Record(Stopwatch.GetTimestamp() - queuedAt);
                    done.Set();
                },
                (Stopwatch.GetTimestamp(), latencies, ran),
                preferLocal: false);
            ran.Wait();
            now = Stopwatch.GetTimestamp();
        }
        while (now < end);

        return DiskProbes.Result(name, 0, latencies, 0, start, now);
    }
}
