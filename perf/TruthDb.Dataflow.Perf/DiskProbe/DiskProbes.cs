using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace TruthDb.Dataflow.Perf.DiskProbe;

/// <summary>
/// The disk's own limits, as a ceiling for the engines' numbers: one thread, one write then one
/// sync, in a loop, for a fixed time. "overwrite" writes into a file that was already written with
/// zeros and synced (the sync persists no metadata: what a prepared segment gives the engine);
/// "append" extends a new file (the sync must also persist the file's size and block map: what the
/// FileStream loop pays). The 1 MiB probes give the sequential bandwidth at a group-commit cadence.
/// <see cref="OverlapProbes"/> show whether overlapping writes and syncs pays on this disk, and
/// <see cref="WakeProbes"/> what a hand-off between threads costs next to a sync.
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
        yield return (dir, time) => OverlapProbes.TwoThreads("overwrite 4 KiB + fdatasync, 2 threads at once", dir, time);
        yield return (dir, time) => OverlapProbes.Pipelined("overwrite 4 KiB + fdatasync, pipelined (write N+1 while N syncs)", dir, time);
        yield return (_, time) => WakeProbes.SemaphoreWake("writer wake-up (SemaphoreSlim, one way)", time);
        yield return (_, time) => WakeProbes.ThreadPoolHop("thread-pool hop (queue to run)", time);
    }

    private static ProbeResult Overwrite(string name, string directory, int size, TimeSpan duration)
    {
        var path = Path.Combine(directory, "overwrite.probe");
        try
        {
            WriteZeros(path, OverwriteFileBytes);
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

        return Result(name, size, latencies, latencies.Count, start, now);
    }

    /// <summary>A probe's result: <paramref name="latencies"/> of operations writing <paramref name="size"/> bytes each, and <paramref name="syncs"/> fdatasync calls, between two timestamps.</summary>
    public static ProbeResult Result(string name, int size, LatencyHistogram latencies, long syncs, long start, long end) => new(
        name,
        size,
        latencies.Count,
        syncs,
        Stopwatch.GetElapsedTime(start, end).TotalSeconds,
        latencies.QuantileMicroseconds(0.50),
        latencies.QuantileMicroseconds(0.99));

    /// <summary>Creates <paramref name="path"/> with <paramref name="length"/> bytes of zeros, written and synced (a prepared segment).</summary>
    public static void WriteZeros(string path, long length)
    {
        using var handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write);
        var zeros = new byte[1024 * 1024];
        for (long offset = 0; offset < length; offset += zeros.Length)
        {
            RandomAccess.Write(handle, zeros, offset);
        }

        Native.DataSync(handle);
    }

    /// <summary><paramref name="size"/> random bytes.</summary>
    public static byte[] Payload(int size)
    {
        var payload = new byte[size];
        Random.Shared.NextBytes(payload);
        return payload;
    }
}
