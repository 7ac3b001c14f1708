using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace TruthDb.Dataflow.Diagnostics;

/// <summary>
/// The instruments of one <see cref="Meter"/> named <see cref="MeterName"/>, shared by every log
/// that reports to that meter. Instruments are created once per meter (a meter from an
/// <see cref="IMeterFactory"/> is cached by the factory, so creating them per log would register
/// duplicates); every measurement carries the log's directory as the tag <see cref="DirectoryTag"/>.
/// Observable instruments (queue, watermarks, segments) read each registered log when collected.
/// </summary>
/// <remarks>
/// Names, units and kinds follow the OpenTelemetry conventions: dotted lowercase names, UCUM units
/// (<c>By</c>, <c>s</c>, annotations in braces), durations as <c>double</c> seconds, additive
/// current values (queue bytes, segments) as up-down counters and non-additive ones (watermarks) as
/// gauges. README.md lists every instrument.
/// </remarks>
internal sealed class WalInstruments
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "TruthDb.Dataflow";

    /// <summary>The tag on every measurement: the log directory.</summary>
    public const string DirectoryTag = "truthdb.wal.directory";

    private static readonly string? Version = typeof(WalInstruments).Assembly.GetName().Version?.ToString();
    private static readonly Lazy<WalInstruments> Shared = new(static () => new WalInstruments(new Meter(MeterName, Version)));
    private static readonly ConditionalWeakTable<Meter, WalInstruments> ByMeter = [];

    private readonly Lock _gate = new();
    private WalMetrics[] _logs = [];

    private WalInstruments(Meter meter)
    {
        RecordsAppended = meter.CreateCounter<long>("truthdb.wal.records.appended", "{record}", "Records acknowledged (written, and synced under Durability.Sync).");
        BytesAppended = meter.CreateCounter<long>("truthdb.wal.bytes.appended", "By", "Payload bytes of the records acknowledged.");
        BytesWritten = meter.CreateCounter<long>("truthdb.wal.bytes.written", "By", "Bytes written to segments: frames with their headers and padding.");
        AppendsRefused = meter.CreateCounter<long>("truthdb.wal.appends.refused", "{record}", "Appends refused because the log was full (no space for the next segment).");
        BatchRecords = meter.CreateHistogram<int>("truthdb.wal.batch.records", "{record}", "Records per batch (one write and, under Durability.Sync, one fdatasync).");
        BatchBytes = meter.CreateHistogram<long>("truthdb.wal.batch.bytes", "By", "Payload bytes per batch.");
        SyncDuration = meter.CreateHistogram<double>("truthdb.wal.sync.duration", "s", "Time spent in one fdatasync of the active segment.");
        AppendDuration = meter.CreateHistogram<double>("truthdb.wal.append.duration", "s", "Time from an append call (AppendAsync, or AppendBatchAsync for a whole batch) to its acknowledgement.");
        RecoveryTruncatedBytes = meter.CreateCounter<long>("truthdb.wal.recovery.truncated.bytes", "By", "Bytes of torn tail that recovery dropped when the log was opened.");
        Faults = meter.CreateCounter<long>("truthdb.wal.faults", "{fault}", "Times the log faulted (a failed write or sync; the log stops accepting appends).");
        meter.CreateObservableUpDownCounter("truthdb.wal.pending.bytes", ObservePendingBytes, "By", "Payload bytes accepted and not yet acknowledged (bounded by MaxPendingBytes).");
        meter.CreateObservableUpDownCounter("truthdb.wal.queued.records", ObserveQueued, "{record}", "Appends accepted and not yet taken by the writer, including those waiting for room.");
        meter.CreateObservableUpDownCounter("truthdb.wal.segments", ObserveSegments, "{segment}", "Segment files in the log.");
        meter.CreateObservableGauge("truthdb.wal.lsn.written", ObserveWritten, "{lsn}", "The written watermark: the last LSN whose write returned.");
        meter.CreateObservableGauge("truthdb.wal.lsn.durable", ObserveDurable, "{lsn}", "The durable watermark: the last LSN covered by a completed fdatasync.");
    }

    public Counter<long> RecordsAppended { get; }

    public Counter<long> BytesAppended { get; }

    public Counter<long> BytesWritten { get; }

    public Counter<long> AppendsRefused { get; }

    public Histogram<int> BatchRecords { get; }

    public Histogram<long> BatchBytes { get; }

    public Histogram<double> SyncDuration { get; }

    public Histogram<double> AppendDuration { get; }

    public Counter<long> RecoveryTruncatedBytes { get; }

    public Counter<long> Faults { get; }

    /// <summary>The instruments on <paramref name="factory"/>'s meter, or on the process-wide meter when null.</summary>
    public static WalInstruments For(IMeterFactory? factory)
    {
        if (factory is null)
        {
            return Shared.Value;
        }

        var meter = factory.Create(new MeterOptions(MeterName) { Version = Version });
        return ByMeter.GetValue(meter, static m => new WalInstruments(m));
    }

    /// <summary>Makes an open log visible to the observable instruments.</summary>
    public void Register(WalMetrics log)
    {
        lock (_gate)
        {
            _logs = [.. _logs, log];
        }
    }

    /// <summary>Stops observing a closed log.</summary>
    public void Unregister(WalMetrics log)
    {
        lock (_gate)
        {
            _logs = Array.FindAll(_logs, l => !ReferenceEquals(l, log));
        }
    }

    private IEnumerable<Measurement<long>> ObservePendingBytes() => Observe(static s => s.PendingBytes);

    private IEnumerable<Measurement<long>> ObserveQueued() => Observe(static s => s.QueuedAppends);

    private IEnumerable<Measurement<long>> ObserveSegments() => Observe(static s => s.Segments);

    private IEnumerable<Measurement<long>> ObserveWritten() => Observe(static s => s.WrittenLsn);

    private IEnumerable<Measurement<long>> ObserveDurable() => Observe(static s => s.DurableLsn);

    // Collection runs on the collector's schedule, never on the append path: allocating here is fine.
    private Measurement<long>[] Observe(Func<WalMetrics.Gauges, long> select)
    {
        var logs = Volatile.Read(ref _logs);
        var measurements = new List<Measurement<long>>(logs.Length);
        foreach (var log in logs)
        {
            if (log.TryReadGauges(out var gauges))
            {
                measurements.Add(new Measurement<long>(select(gauges), log.Tag));
            }
        }

        return [.. measurements];
    }
}
