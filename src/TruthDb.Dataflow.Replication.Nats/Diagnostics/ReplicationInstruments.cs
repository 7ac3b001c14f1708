using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace TruthDb.Dataflow.Replication.Nats.Diagnostics;

/// <summary>
/// The instruments of the meter <see cref="MeterName"/>, created once per meter (like the engine's
/// <c>WalInstruments</c>) and shared by every replicator that reports to it; each measurement carries
/// the stream's name as <see cref="StreamTag"/>. Names and units follow the OpenTelemetry conventions
/// (dotted lowercase names, UCUM units, durations in seconds as <c>double</c>).
/// </summary>
internal sealed class ReplicationInstruments
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "TruthDb.Dataflow.Replication";

    /// <summary>The tag on every measurement: the JetStream stream.</summary>
    public const string StreamTag = "truthdb.replication.stream";

    private static readonly string? Version = typeof(ReplicationInstruments).Assembly.GetName().Version?.ToString();
    private static readonly Lazy<ReplicationInstruments> Shared = new(static () => new ReplicationInstruments(new Meter(MeterName, Version)));
    private static readonly ConditionalWeakTable<Meter, ReplicationInstruments> ByMeter = [];

    private readonly Lock _gate = new();
    private NatsReplicator[] _replicators = [];

    private ReplicationInstruments(Meter meter)
    {
        MessagesShipped = meter.CreateCounter<long>("truthdb.replication.messages.shipped", "{message}", "Messages the stream acknowledged (a batch of records counts once).");
        RecordsShipped = meter.CreateCounter<long>("truthdb.replication.records.shipped", "{record}", "Records the stream acknowledged (stored, or already held).");
        BytesShipped = meter.CreateCounter<long>("truthdb.replication.bytes.shipped", "By", "Payload bytes of the records the stream acknowledged.");
        PublishDuration = meter.CreateHistogram<double>("truthdb.replication.publish.duration", "s", "Time from sending a message to receiving its acknowledgement.");
        Retries = meter.CreateCounter<long>("truthdb.replication.retries", "{retry}", "Times the replicator reconciled with the stream again after an unknown publish outcome (timeout, no responders, lost connection).");
        meter.CreateObservableGauge("truthdb.replication.lsn.shipped", ObserveShipped, "{lsn}", "The last LSN such that it and every LSN before it are in the stream.");
        meter.CreateObservableGauge("truthdb.replication.lag", ObserveLag, "{lsn}", "LSNs the log has made durable that the stream has not acknowledged yet.");
        meter.CreateObservableUpDownCounter("truthdb.replication.publishes.in_flight", ObserveInFlight, "{publish}", "Messages sent and not yet acknowledged (bounded by MaxInFlight).");
    }

    public Counter<long> MessagesShipped { get; }

    public Counter<long> RecordsShipped { get; }

    public Counter<long> BytesShipped { get; }

    public Histogram<double> PublishDuration { get; }

    public Counter<long> Retries { get; }

    /// <summary>The instruments on <paramref name="factory"/>'s meter, or on the process-wide meter when null.</summary>
    public static ReplicationInstruments For(IMeterFactory? factory)
    {
        if (factory is null)
        {
            return Shared.Value;
        }

        var meter = factory.Create(new MeterOptions(MeterName) { Version = Version });
        return ByMeter.GetValue(meter, static m => new ReplicationInstruments(m));
    }

    public void Register(NatsReplicator replicator)
    {
        lock (_gate)
        {
            _replicators = [.. _replicators, replicator];
        }
    }

    public void Unregister(NatsReplicator replicator)
    {
        lock (_gate)
        {
            _replicators = Array.FindAll(_replicators, r => !ReferenceEquals(r, replicator));
        }
    }

    private IEnumerable<Measurement<long>> ObserveShipped() => Observe(static p => p.ShippedLsn);

    private IEnumerable<Measurement<long>> ObserveLag() => Observe(static p => p.LagLsns);

    private IEnumerable<Measurement<long>> ObserveInFlight() => Observe(static p => p.InFlight);

    private List<Measurement<long>> Observe(Func<ReplicationProgress, long> value)
    {
        var replicators = Volatile.Read(ref _replicators);
        var measurements = new List<Measurement<long>>(replicators.Length);
        foreach (var replicator in replicators)
        {
            measurements.Add(new Measurement<long>(value(replicator.GetProgress()), new KeyValuePair<string, object?>(StreamTag, replicator.StreamName)));
        }

        return measurements;
    }
}
