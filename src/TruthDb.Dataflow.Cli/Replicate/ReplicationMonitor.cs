using System.Diagnostics;
using System.Diagnostics.Metrics;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Replication.Nats;

namespace TruthDb.Dataflow.Cli.Replicate;

/// <summary>
/// Turns a replicator's progress into one line per interval: the shipped LSN, records/s and MB/s
/// since the last line, the lag in LSNs, and the publish latency (send to acknowledgement, from the
/// <c>truthdb.replication.publish.duration</c> metric) of the interval.
/// </summary>
internal sealed class ReplicationMonitor : IDisposable
{
    private readonly NatsReplicator _replicator;
    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private readonly long _started = Stopwatch.GetTimestamp();
    private LatencyHistogram _latencies = new();
    private long _lastTimestamp;
    private ReplicationProgress _last;

    public ReplicationMonitor(NatsReplicator replicator)
    {
        _replicator = replicator;
        _lastTimestamp = _started;
        _last = replicator.GetProgress();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "TruthDb.Dataflow.Replication" && instrument.Name == "truthdb.replication.publish.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnLatency);
        _listener.Start();
    }

    /// <summary>The line for the interval since the last call.</summary>
    public string NextLine()
    {
        var now = Stopwatch.GetTimestamp();
        var progress = _replicator.GetProgress();
        var seconds = Math.Max(Stopwatch.GetElapsedTime(_lastTimestamp, now).TotalSeconds, 1e-9);
        LatencyHistogram latencies;
        lock (_gate)
        {
            latencies = _latencies;
            _latencies = new LatencyHistogram();
        }

        var records = (progress.RecordsShipped - _last.RecordsShipped) / seconds;
        var messages = (progress.MessagesShipped - _last.MessagesShipped) / seconds;
        var bytes = (progress.BytesShipped - _last.BytesShipped) / seconds;
        _last = progress;
        _lastTimestamp = now;
        var latency = latencies.Count == 0
            ? "publish -"
            : string.Create(Show.Invariant, $"publish p50 {latencies.QuantileMicroseconds(0.5) / 1000:0.0} ms p99 {latencies.QuantileMicroseconds(0.99) / 1000:0.0} ms");
        return string.Create(Show.Invariant,
            $"shipped LSN {progress.ShippedLsn} | {records:N0} records/s | {messages:N0} messages/s | {Show.Bytes(bytes)}/s | lag {progress.LagLsns} LSNs | {latency} | in flight {progress.InFlight} | retries {progress.Retries}");
    }

    /// <summary>The closing line: totals since the start.</summary>
    public string Summary(string verb)
    {
        var progress = _replicator.GetProgress();
        var seconds = Math.Max(Stopwatch.GetElapsedTime(_started).TotalSeconds, 1e-9);
        return string.Create(Show.Invariant,
            $"{verb}: shipped up to LSN {progress.ShippedLsn} (cursor at {progress.CursorLsn}); {progress.RecordsShipped:N0} records in {progress.MessagesShipped:N0} messages, {Show.Bytes(progress.BytesShipped)} in {seconds:0.0} s ({progress.RecordsShipped / seconds:N0} records/s, {Show.Bytes(progress.BytesShipped / seconds)}/s); lag {progress.LagLsns} LSNs; {progress.Retries} retries");
    }

    public void Dispose() => _listener.Dispose();

    private void OnLatency(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "truthdb.replication.stream" && !Equals(tag.Value, _replicator.StreamName))
            {
                return;
            }
        }

        lock (_gate)
        {
            _latencies.Record((long)(seconds * Stopwatch.Frequency));
        }
    }
}
