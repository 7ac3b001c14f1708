using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Diagnostics;

public sealed class MetricsTests : IDisposable
{
    private readonly TestLog _log = new();

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData(NatsMessageFormat.Record, 1_000)]
    [InlineData(NatsMessageFormat.Batch, 4)]
    public async Task CatchUpAsync_Shipping_ReportsShippedLsnLagRecordsMessagesBytesAndPublishLatency(NatsMessageFormat format, int messages)
    {
        var ct = Timeouts.Token();
        var stream = NatsServers.UniqueStream("metrics");
        var samples = new ConcurrentQueue<(string Name, double Value, string? Unit)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "TruthDb.Dataflow.Replication")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "truthdb.replication.stream" && Equals(tag.Value, stream))
                {
                    samples.Enqueue((instrument.Name, value, instrument.Unit));
                }
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
        listener.Start();

        await using var wal = await _log.OpenAsync();
        await TestLog.AppendAsync(wal, 1_000, seed: 31, ct);
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        using var replicator = NatsReplicator.Create(wal, nats, new NatsReplicatorOptions { StreamName = stream, Format = format, BatchMaxRecords = 250 });
        listener.RecordObservableInstruments();
        Assert.Contains(samples, s => s.Name == "truthdb.replication.lag" && s.Value == 1_000);

        Assert.Equal(1_000, await replicator.CatchUpAsync(ct));
        listener.RecordObservableInstruments();

        var list = samples.ToList();
        Assert.Equal(1_000, list.Where(s => s.Name == "truthdb.replication.records.shipped").Sum(s => s.Value));
        Assert.Equal(messages, list.Where(s => s.Name == "truthdb.replication.messages.shipped").Sum(s => s.Value));
        Assert.Equal(replicator.GetProgress().BytesShipped, list.Where(s => s.Name == "truthdb.replication.bytes.shipped").Sum(s => s.Value));
        var latencies = list.Where(s => s.Name == "truthdb.replication.publish.duration").ToList();
        Assert.Equal(messages, latencies.Count);
        Assert.All(latencies, s => Assert.True(s.Value > 0 && s.Unit == "s"));
        Assert.Equal(1_000, list.Last(s => s.Name == "truthdb.replication.lsn.shipped").Value);
        Assert.Equal(0, list.Last(s => s.Name == "truthdb.replication.lag").Value);
        Assert.Equal(0, list.Last(s => s.Name == "truthdb.replication.publishes.in_flight").Value);
    }
}
