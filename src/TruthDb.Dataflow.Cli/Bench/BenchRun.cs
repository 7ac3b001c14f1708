using System.Diagnostics;

namespace TruthDb.Dataflow.Cli.Bench;

/// <summary>
/// The closed-loop producers of <c>truthdb bench</c>: each appends one record, awaits its
/// acknowledgement, records the latency, and goes again, until the duration or the record count is
/// reached (or <c>stop</c> is cancelled: Ctrl+C prints the results so far).
/// </summary>
internal sealed class BenchRun(Wal wal, BenchSettings settings, CancellationToken stop)
{
    private readonly LatencyHistogram[] _latencies = new LatencyHistogram[settings.Producers];
    private readonly WalStatistics _before = wal.GetStatistics();
    private long _claimed;
    private long _completed;
    private long _started;
    private long _ended;

    public long Completed => Volatile.Read(ref _completed);

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started, Volatile.Read(ref _ended) is var end && end != 0 ? end : Stopwatch.GetTimestamp());

    public Task Start()
    {
        var payload = new byte[settings.RecordSize];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)('a' + (i % 26));
        }

        _started = Stopwatch.GetTimestamp();
        var producers = new Task[settings.Producers];
        for (var p = 0; p < producers.Length; p++)
        {
            var histogram = _latencies[p] = new LatencyHistogram();
            producers[p] = Task.Run(() => ProduceAsync(payload, histogram), CancellationToken.None);
        }

        return FinishAsync(producers);
    }

    public BenchResult Result()
    {
        var all = new LatencyHistogram();
        foreach (var histogram in _latencies)
        {
            all.Add(histogram);
        }

        var after = wal.GetStatistics();
        return new BenchResult(settings, Completed, Elapsed, all,
            after.Batches - _before.Batches, after.Syncs - _before.Syncs, after.SyncTime - _before.SyncTime, after.Appends - _before.Appends);
    }

    private async Task FinishAsync(Task[] producers)
    {
        await Task.WhenAll(producers);
        Volatile.Write(ref _ended, Stopwatch.GetTimestamp());
    }

    // Ctrl+C stops the producers and the results so far are printed.
    private async Task ProduceAsync(byte[] payload, LatencyHistogram latencies)
    {
        while (!stop.IsCancellationRequested)
        {
            if (settings.Records is { } target ? Interlocked.Increment(ref _claimed) > target : Stopwatch.GetElapsedTime(_started) >= settings.Duration)
            {
                return;
            }

            var start = Stopwatch.GetTimestamp();
            await wal.AppendAsync(payload, CancellationToken.None);
            latencies.Record(Stopwatch.GetTimestamp() - start);
            Interlocked.Increment(ref _completed);
        }
    }
}
