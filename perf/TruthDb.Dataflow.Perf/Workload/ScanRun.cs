using System.Diagnostics;

namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>
/// Sealed-segment scan throughput of truthdb: fills a log with <c>mebibytes</c> of payload (Written
/// durability, then a clean close), reopens it, reads it from LSN 1 to the end once to warm the
/// page cache, then times further full reads (<c>ReadAsync</c> of the reopened log, no follow; all
/// but the last segment are sealed). Each payload's length and first byte are touched; payloads are
/// views into the mapping, so nothing is copied.
/// </summary>
internal static class ScanRun
{
    public static async Task<ScanResult> ExecuteAsync(string directory, int recordSize, long mebibytes, long segmentSize, int passes)
    {
        var records = await LogFill.FillAsync(directory, recordSize, mebibytes, segmentSize);
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = directory, Durability = Durability.Written, SegmentSize = segmentSize });
        await ScanAsync(wal);
        var best = double.MaxValue;
        var times = new double[passes];
        for (var i = 0; i < passes; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var (count, _) = await ScanAsync(wal);
            times[i] = Stopwatch.GetElapsedTime(started).TotalSeconds;
            best = Math.Min(best, times[i]);
            if (count != records)
            {
                throw new InvalidOperationException($"Scan saw {count} records, expected {records}.");
            }
        }

        Array.Sort(times);
        var median = times[times.Length / 2];
        var bytes = records * (long)recordSize;
        return new ScanResult(recordSize, records, bytes, median, records / median, bytes / median / 1e9);
    }

    private static async Task<(long Count, long Checksum)> ScanAsync(Wal wal)
    {
        long count = 0;
        long sum = 0;
        await foreach (var record in wal.ReadAsync(1).ConfigureAwait(false))
        {
            var payload = record.Payload.Span;
            sum += payload.Length + (payload.Length > 0 ? payload[0] : 0);
            count++;
        }

        return (count, sum);
    }
}

/// <summary>What one scan measured (median of the timed passes).</summary>
internal sealed record ScanResult(int RecordSize, long Records, long PayloadBytes, double Seconds, double RecordsPerSecond, double PayloadGigabytesPerSecond);
