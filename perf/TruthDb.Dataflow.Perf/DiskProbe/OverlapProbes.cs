using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace TruthDb.Dataflow.Perf.DiskProbe;

/// <summary>
/// Probes that decide whether a log writer gains from overlapping its IO, on a file already written
/// with zeros and synced (as a prepared segment is):
/// <list type="bullet">
/// <item>"2 threads": two threads each write 4 KiB and fdatasync, at once, into the same file (their own
/// halves). If the disk serves two syncs in parallel, ops/s doubles; if it serializes them, ops/s stays
/// and each latency doubles.</item>
/// <item>"pipelined": one thread writes block N+1 while another fdatasyncs block N, the shape of a
/// writer that writes the next batch while the previous one syncs (at most one sync in flight; the next
/// sync covers every block written since the last one started). A block's latency runs from its write
/// to the end of the first sync that started after it.</item>
/// </list>
/// </summary>
internal static class OverlapProbes
{
    private const long FileBytes = 64L * 1024 * 1024;
    private const int BlockBytes = 4096;

    public static ProbeResult TwoThreads(string name, string directory, TimeSpan duration) =>
        WithZeroedFile(directory, "overlap.probe", file =>
        {
            var payload = DiskProbes.Payload(BlockBytes);
            var half = FileBytes / 2;
            var histograms = new[] { new LatencyHistogram(), new LatencyHistogram() };
            var start = Stopwatch.GetTimestamp();
            var stop = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            var threads = new Thread[2];
            for (var t = 0; t < threads.Length; t++)
            {
                var histogram = histograms[t];
                var regionStart = t * half;
                threads[t] = new Thread(() =>
                {
                    long next = 0;
                    long now;
                    do
                    {
                        var before = Stopwatch.GetTimestamp();
                        RandomAccess.Write(file, payload, regionStart + next);
                        Native.DataSync(file);
                        now = Stopwatch.GetTimestamp();
                        histogram.Record(now - before);
                        next = (next + BlockBytes) % half;
                    }
                    while (now < stop);
                })
                { IsBackground = true, Name = $"probe.sync.{t}" };
                threads[t].Start();
            }

            foreach (var thread in threads)
            {
                thread.Join();
            }

            histograms[0].Add(histograms[1]);
            return DiskProbes.Result(name, BlockBytes, histograms[0], histograms[0].Count, start, Stopwatch.GetTimestamp());
        });

    public static ProbeResult Pipelined(string name, string directory, TimeSpan duration) =>
        WithZeroedFile(directory, "pipeline.probe", file =>
        {
            var payload = DiskProbes.Payload(BlockBytes);
            var blocks = (int)(FileBytes / BlockBytes);
            var writtenAt = new long[blocks];
            var latencies = new LatencyHistogram();
            var start = Stopwatch.GetTimestamp();
            var stop = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            long written = 0;
            long synced = 0;
            var done = false;
            long syncs = 0;

            // The syncer: each sync covers every block written before it started.
            var syncer = new Thread(() =>
            {
                while (!Volatile.Read(ref done) || Volatile.Read(ref written) > synced)
                {
                    var target = Volatile.Read(ref written);
                    if (target == synced)
                    {
                        Thread.Yield();
                        continue;
                    }

                    Native.DataSync(file);
                    syncs++;
                    var now = Stopwatch.GetTimestamp();
                    for (var b = synced; b < target; b++)
                    {
                        latencies.Record(now - writtenAt[b % blocks]);
                    }

                    Volatile.Write(ref synced, target);
                }
            })
            { IsBackground = true, Name = "probe.syncer" };
            syncer.Start();

            // The writer: writes the next block as soon as the sync before the one in flight is done
            // (one block waits behind the running sync), as a pipelined log writer would.
            while (Stopwatch.GetTimestamp() < stop)
            {
                var next = Volatile.Read(ref written);
                while (next - Volatile.Read(ref synced) > 1)
                {
                    Thread.Yield();
                }

                writtenAt[next % blocks] = Stopwatch.GetTimestamp();
                RandomAccess.Write(file, payload, next % blocks * BlockBytes);
                Volatile.Write(ref written, next + 1);
            }

            Volatile.Write(ref done, true);
            syncer.Join();
            return DiskProbes.Result(name, BlockBytes, latencies, syncs, start, Stopwatch.GetTimestamp());
        });

    private static ProbeResult WithZeroedFile(string directory, string fileName, Func<SafeFileHandle, ProbeResult> probe)
    {
        var path = Path.Combine(directory, fileName);
        try
        {
            DiskProbes.WriteZeros(path, FileBytes);
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
            return probe(file);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
