using System.Diagnostics;
using FASTER.core;

namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>
/// FasterLog's side of the scan and recovery workloads, with the stock settings of
/// <see cref="Engines.FasterLogEngine"/> (<c>new FasterLogSettings(directory)</c>): fill by
/// <c>EnqueueAsync</c> and one final <c>CommitAsync</c>; scan with <c>Scan(BeginAddress,
/// TailAddress)</c> and <c>UnsafeGetNext</c> (zero-copy, like truthdb's payload views); recover by
/// constructing <c>FasterLog</c> on the directory (it recovers from the latest commit).
/// </summary>
internal static class FasterLogReadSide
{
    /// <summary>Fills a FasterLog with <paramref name="mebibytes"/> MiB of payload and commits; disposes it unless asked not to.</summary>
    public static async Task<long> FillAsync(string directory, int recordSize, long mebibytes, bool dispose = true)
    {
        Directory.CreateDirectory(directory);
        var settings = new FasterLogSettings(directory, deleteDirOnDispose: false);
        var log = new FasterLog(settings);
        var records = mebibytes * 1024 * 1024 / recordSize;
        var payload = new byte[recordSize];
        Random.Shared.NextBytes(payload);
        for (var i = 0L; i < records; i++)
        {
            await log.EnqueueAsync(payload);
        }

        await log.CommitAsync();
        if (dispose)
        {
            log.Dispose();
            settings.Dispose();
        }

        return records;
    }

    public static async Task<ScanResult> ScanAsync(string directory, int recordSize, long mebibytes, int passes)
    {
        var records = await FillAsync(directory, recordSize, mebibytes);
        using var settings = new FasterLogSettings(directory, deleteDirOnDispose: false);
        using var log = new FasterLog(settings);
        await ScanOnceAsync(log);
        var times = new double[passes];
        for (var i = 0; i < passes; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var count = await ScanOnceAsync(log);
            times[i] = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (count != records)
            {
                throw new InvalidOperationException($"FasterLog scan saw {count} records, expected {records}.");
            }
        }

        Array.Sort(times);
        var median = times[times.Length / 2];
        var bytes = records * (long)recordSize;
        return new ScanResult(recordSize, records, bytes, median, records / median, bytes / median / 1e9);
    }

    public static async Task<RecoveryResult> RecoverAsync(string directory, int recordSize, long mebibytes)
    {
        await RecoveryRun.RunFillChildAsync("fasterlog", directory, recordSize, mebibytes, 0);
        var segments = Directory.GetFiles(directory, "*.log.*").Length;
        var started = Stopwatch.GetTimestamp();
        var settings = new FasterLogSettings(directory, deleteDirOnDispose: false);
        var log = new FasterLog(settings);
        var uncleanMillis = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var tail = log.TailAddress;
        await log.CommitAsync();
        log.Dispose();
        settings.Dispose();

        started = Stopwatch.GetTimestamp();
        using var again = new FasterLogSettings(directory, deleteDirOnDispose: false);
        using var reopened = new FasterLog(again);
        var cleanMillis = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return new RecoveryResult(recordSize, mebibytes, segments, tail, uncleanMillis, cleanMillis);
    }

    private static async Task<long> ScanOnceAsync(FasterLog log)
    {
        using var iterator = log.Scan(log.BeginAddress, log.TailAddress);
        long count = 0;
        long sum = 0;
        while (true)
        {
            var (n, s) = Drain(iterator);
            count += n;
            sum += s;
            if (!await iterator.WaitAsync())
            {
                break;
            }
        }

        GC.KeepAlive(sum);
        return count;
    }

    private static unsafe (long Count, long Sum) Drain(FasterLogScanIterator iterator)
    {
        long count = 0;
        long sum = 0;
        while (iterator.UnsafeGetNext(out var entry, out var length, out _, out _))
        {
            sum += length + (length > 0 ? entry[0] : 0);
            iterator.UnsafeRelease();
            count++;
        }

        return (count, sum);
    }
}
