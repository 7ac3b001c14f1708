using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace TruthDb.Dataflow.Perf.DiskProbe;

/// <summary>
/// The disk's own limits, as a ceiling for the engines' numbers: one thread, one write then one
/// sync, in a loop, for a fixed time. "overwrite" writes into a file that was already written with
/// zeros and synced (the sync persists no metadata: what a prepared segment gives the engine);
/// "append" extends a new file (the sync must also persist the file's size and block map: what the
/// FileStream loop pays). The 1 MiB probes give the sequential bandwidth at a group-commit cadence.
/// </summary>
internal static class DiskProbes
{
    /// <summary>
    /// The probe whose p50 sets the ceiling of durable appends: with one append in flight per
    /// producer, no engine acknowledges more than producers / (overwrite + fdatasync latency) per second.
    /// </summary>
    public const string CeilingProbe = "overwrite 4 KiB + fdatasync";

    private const long OverwriteFileBytes = 64L * 1024 * 1024;

    public static IEnumerable<Func<string, TimeSpan, ProbeResult>> All()
    {
        yield return (dir, time) => Overwrite(CeilingProbe, dir, 4096, time);
        yield return (dir, time) => Append("append 4 KiB + fdatasync", dir, 4096, time, fullSync: false);
        yield return (dir, time) => Append("append 128 B + fdatasync", dir, 128, time, fullSync: false);
        yield return (dir, time) => Append("append 4 KiB + fsync (FileStream.Flush(true))", dir, 4096, time, fullSync: true);
        yield return (dir, time) => Overwrite("overwrite 1 MiB + fdatasync", dir, 1024 * 1024, time);
        yield return (dir, time) => Append("append 1 MiB + fdatasync", dir, 1024 * 1024, time, fullSync: false);
    }

    private static ProbeResult Overwrite(string name, string directory, int size, TimeSpan duration)
    {
        var path = Path.Combine(directory, "overwrite.probe");
        try
        {
            using (var handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write))
            {
                var zeros = new byte[1024 * 1024];
                for (long offset = 0; offset < OverwriteFileBytes; offset += zeros.Length)
                {
                    RandomAccess.Write(handle, zeros, offset);
                }

                Native.DataSync(handle);
            }

            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
            var payload = Payload(size);
            long next = 0;
            return Loop(name, size, duration, () =>
            {
                RandomAccess.Write(file, payload, next);
                next = (next + size) % OverwriteFileBytes;
                Native.DataSync(file);
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static ProbeResult Append(string name, string directory, int size, TimeSpan duration, bool fullSync)
    {
        var path = Path.Combine(directory, "append.probe");
        try
        {
            var payload = Payload(size);
            if (fullSync)
            {
                using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
                return Loop(name, size, duration, () =>
                {
                    stream.Write(payload);
                    stream.Flush(flushToDisk: true);
                });
            }

            using SafeFileHandle file = File.OpenHandle(path, FileMode.Create, FileAccess.Write);
            long end = 0;
            return Loop(name, size, duration, () =>
            {
                RandomAccess.Write(file, payload, end);
                end += size;
                Native.DataSync(file);
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static ProbeResult Loop(string name, int size, TimeSpan duration, Action writeAndSync)
    {
        var latencies = new LatencyHistogram();
        var start = Stopwatch.GetTimestamp();
        var stop = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long now;
        do
        {
            var before = Stopwatch.GetTimestamp();
            writeAndSync();
            now = Stopwatch.GetTimestamp();
            latencies.Record(now - before);
        }
        while (now < stop);

        return new ProbeResult(
            name,
            size,
            latencies.Count,
            Stopwatch.GetElapsedTime(start, now).TotalSeconds,
            latencies.QuantileMicroseconds(0.50),
            latencies.QuantileMicroseconds(0.99));
    }

    private static byte[] Payload(int size)
    {
        var payload = new byte[size];
        Random.Shared.NextBytes(payload);
        return payload;
    }
}
