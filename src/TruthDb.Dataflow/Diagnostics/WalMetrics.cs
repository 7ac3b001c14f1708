using System.Diagnostics;
using TruthDb.Dataflow.LogState;
using TruthDb.Dataflow.Writing;

namespace TruthDb.Dataflow.Diagnostics;

/// <summary>
/// One log's view of the <see cref="WalInstruments"/>: records measurements tagged with its
/// directory. It is fed by the writer's events (<see cref="IWriterListener"/>) and never reaches into
/// the writer; the observable instruments read the snapshot and the watermarks it was handed at
/// <see cref="Opened"/>. Everything the write path calls costs a field read and a branch when nobody
/// listens, allocates nothing, and runs no LINQ or closures.
/// </summary>
internal sealed class WalMetrics : IWriterListener
{
    private readonly WalInstruments _instruments;
    private Observed? _log;

    /// <summary>Metrics for the log in <paramref name="directory"/>, on the meter that <paramref name="options"/> names.</summary>
    public WalMetrics(WalOptions options, string directory)
    {
        _instruments = WalInstruments.For(options.MeterFactory);
        Tag = new KeyValuePair<string, object?>(WalInstruments.DirectoryTag, directory);
    }

    /// <summary>The directory tag carried by every measurement.</summary>
    public KeyValuePair<string, object?> Tag { get; }

    /// <summary>
    /// The timestamp an append starts at (kept in its <see cref="PendingAppend"/>), or 0 when nobody
    /// listens to the append duration (then no clock is read).
    /// </summary>
    public long AppendStarted() => _instruments.AppendDuration.Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>
    /// The writer is about to acknowledge <paramref name="appended"/>, written as one batch: counts
    /// records and bytes, records the batch size, and each append's latency. Call before completing
    /// them (a completed append may be reused at once).
    /// </summary>
    public void Acknowledging(ReadOnlySpan<PendingAppend> appended)
    {
        if (appended.IsEmpty)
        {
            return;
        }

        var instruments = _instruments;
        var recordLatency = instruments.AppendDuration.Enabled;
        var now = recordLatency ? Stopwatch.GetTimestamp() : 0;
        long bytes = 0;
        long records = 0;
        foreach (var item in appended)
        {
            bytes += item.Length;
            records += item.Count;
            if (recordLatency && item.StartedAt != 0)
            {
                instruments.AppendDuration.Record(Seconds(now - item.StartedAt), Tag);
            }
        }

        instruments.RecordsAppended.Add(records, Tag);
        instruments.BytesAppended.Add(bytes, Tag);
        instruments.BatchRecords.Record((int)Math.Min(records, int.MaxValue), Tag);
        instruments.BatchBytes.Record(bytes, Tag);
    }

    /// <summary><paramref name="count"/> appends were refused because the log is full.</summary>
    public void Refused(int count)
    {
        if (count > 0)
        {
            _instruments.AppendsRefused.Add(count, Tag);
        }
    }

    /// <summary>One positional write of <paramref name="bytes"/>.</summary>
    public void Written(int bytes) => _instruments.BytesWritten.Add(bytes, Tag);

    /// <summary>One fdatasync that took <paramref name="elapsed"/>.</summary>
    public void Synced(TimeSpan elapsed) => _instruments.SyncDuration.Record(elapsed.TotalSeconds, Tag);

    /// <summary>The log faulted with <paramref name="error"/> (counted once per log).</summary>
    public void Faulted(Exception error) =>
        _instruments.Faults.Add(1, Tag, new KeyValuePair<string, object?>("error.type", Storage.StorageErrors.IsDiskFull(error) ? "disk_full" : error.GetType().FullName));

    /// <summary>
    /// The log is open: recovery dropped <paramref name="truncatedBytes"/> of torn tail; observe the log
    /// from now on through <paramref name="statistics"/> (a snapshot of the writer's counters and queue)
    /// and <paramref name="watermarks"/>.
    /// </summary>
    public void Opened(Func<WalStatistics> statistics, Watermarks watermarks, long truncatedBytes)
    {
        if (truncatedBytes > 0)
        {
            _instruments.RecoveryTruncatedBytes.Add(truncatedBytes, Tag);
        }

        Volatile.Write(ref _log, new Observed(statistics, watermarks));
        _instruments.Register(this);
    }

    /// <summary>The log is closed: stop observing it.</summary>
    public void Closed()
    {
        _instruments.Unregister(this);
        Volatile.Write(ref _log, null);
    }

    /// <summary>The current values of the observable instruments; false once the log is closed.</summary>
    public bool TryReadGauges(out Gauges gauges)
    {
        if (Volatile.Read(ref _log) is not { } log)
        {
            gauges = default;
            return false;
        }

        var statistics = log.Statistics();
        gauges = new Gauges(statistics.PendingBytes, statistics.QueuedAppends, statistics.Segments, log.Watermarks.Written, log.Watermarks.Durable);
        return true;
    }

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    private sealed record Observed(Func<WalStatistics> Statistics, Watermarks Watermarks);

    /// <summary>What the observable instruments report for one log.</summary>
    internal readonly record struct Gauges(long PendingBytes, long QueuedAppends, long Segments, long WrittenLsn, long DurableLsn);
}
