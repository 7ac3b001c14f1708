using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace TruthDb.Dataflow.Tests.Support;

/// <summary>
/// Listens to the <c>TruthDb.Dataflow</c> meter and keeps the measurements of one log (by its
/// directory tag, since tests run in parallel and share the process-wide meter).
/// </summary>
internal sealed class MetricsCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _directory;
    private readonly ConcurrentQueue<Sample> _samples = new();
    private readonly ConcurrentDictionary<string, Instrument> _instruments = new();

    /// <summary>Collects measurements tagged with <paramref name="directory"/>; with <paramref name="scope"/>, only from meters of that scope (an <see cref="IMeterFactory"/>).</summary>
    public MetricsCollector(string directory, object? scope = null)
    {
        _directory = directory;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "TruthDb.Dataflow" && (scope is null || ReferenceEquals(instrument.Meter.Scope, scope)))
            {
                _instruments[instrument.Name] = instrument;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    /// <summary>The instruments seen, by name.</summary>
    public IReadOnlyDictionary<string, Instrument> Instruments => _instruments;

    /// <summary>Every measurement of <paramref name="name"/> for this log, in order.</summary>
    public List<Sample> Of(string name) => _samples.Where(s => s.Instrument == name).ToList();

    /// <summary>The sum of the measurements of <paramref name="name"/>.</summary>
    public double Sum(string name) => Of(name).Sum(s => s.Value);

    /// <summary>Runs the observable instruments' callbacks now.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = tags.ToArray();
        if (copy.Any(t => t.Key == "truthdb.wal.directory" && Equals(t.Value, _directory)))
        {
            _samples.Enqueue(new Sample(instrument.Name, value, copy));
        }
    }

    internal sealed record Sample(string Instrument, double Value, KeyValuePair<string, object?>[] Tags);
}
