using System.Diagnostics;
using System.Globalization;
using TruthDb.Dataflow.Perf.Engines;

namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>
/// Closed-loop append workload: each producer awaits one append call at a time (one record, or a
/// batch of <see cref="RunSpec.Batch"/> records) and records its latency (Stopwatch ticks) into its
/// own histogram; nothing on that path allocates in the harness (the payloads are allocated once per
/// producer). Calls that complete inside the measured window count towards throughput (in records)
/// and latency (per call); the warm-up before it and the stragglers after it do not.
/// </summary>
internal sealed class AppendRun
{
    private readonly IAppendEngine _engine;
    private readonly RunSpec _spec;
    private long _measureStart = long.MaxValue;
    private long _measureEnd = long.MaxValue;
    private volatile bool _stop;

    private AppendRun(IAppendEngine engine, RunSpec spec)
    {
        _engine = engine;
        _spec = spec;
    }

    /// <summary>
    /// Runs <paramref name="spec"/> against a freshly opened engine in <paramref name="directory"/>.
    /// Every phase has a time limit, so a hung engine fails its run instead of hanging the harness:
    /// opening and closing get <paramref name="slack"/>, measuring gets warm-up + duration +
    /// <paramref name="slack"/>. A run whose open or measurement does not finish in time throws
    /// <see cref="TimeoutException"/> (the engine is abandoned, its threads may live on); a run that
    /// measured but whose engine does not close in time returns its result with
    /// <see cref="RunResult.Problem"/> set.
    /// </summary>
    public static async Task<RunResult> ExecuteAsync(RunSpec spec, string directory, long segmentSize, TimeSpan slack)
    {
        var engine = await Within(
            EngineCatalog.OpenAsync(spec.Engine, new EngineSettings(directory, spec.Durability, segmentSize)).AsTask(), slack, "opening");
        RunResult result;
        try
        {
            result = await Within(new AppendRun(engine, spec).MeasureAsync(), spec.Warmup + spec.Duration + slack, "appending");
        }
        catch (Exception ex) when (ex is not TimeoutException)
        {
            await Within(engine.DisposeAsync().AsTask(), slack, "closing after a failure");
            throw;
        }

        try
        {
            await Within(engine.DisposeAsync().AsTask(), slack, "closing");
        }
        catch (TimeoutException ex)
        {
            return result with { Problem = ex.Message };
        }

        return result;
    }

    private static async Task<T> Within<T>(Task<T> task, TimeSpan limit, string phase)
    {
        await Within((Task)task, limit, phase);
        return await task;
    }

    private static async Task Within(Task task, TimeSpan limit, string phase)
    {
        if (await Task.WhenAny(task, Task.Delay(limit)) != task)
        {
            throw new TimeoutException(string.Create(
                CultureInfo.InvariantCulture,
                $"hung: {phase} did not finish within {limit.TotalSeconds:0} s; the engine was abandoned"));
        }

        await task;
    }

    private async Task<RunResult> MeasureAsync()
    {
        var quota = _spec.Records > 0 ? (_spec.Records + _spec.Producers - 1) / _spec.Producers : 0;
        var producers = new Task<Producer>[_spec.Producers];
        for (var i = 0; i < producers.Length; i++)
        {
            var producer = new Producer(_spec.RecordSize, _spec.Batch, quota);
            producers[i] = _engine is IBlockingAppendEngine blocking
                ? ProduceOnThread(blocking, producer, i)
                : Task.Run(() => ProduceAsync(producer));
        }

        await Task.Delay(_spec.Warmup);
        var countersBefore = _engine.ReadCounters();
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        var cpuBefore = ProcessorTime();
        var start = Stopwatch.GetTimestamp();
        Volatile.Write(ref _measureStart, start);

        long end;
        if (quota == 0)
        {
            await Task.Delay(_spec.Duration);
            end = Stopwatch.GetTimestamp();
            Volatile.Write(ref _measureEnd, end);
        }
        else
        {
            await Task.WhenAll(producers);
            end = 0;
            foreach (var producer in producers)
            {
                end = Math.Max(end, producer.Result.Finished);
            }
        }

        var countersAfter = _engine.ReadCounters();
        var allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
        var cpu = ProcessorTime() - cpuBefore;
        _stop = true;
        await Task.WhenAll(producers);

        var latencies = new LatencyHistogram();
        long records = 0;
        foreach (var producer in producers)
        {
            latencies.Add(producer.Result.Latencies);
            records += producer.Result.Records;
        }

        var seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
        return new RunResult(
            _spec,
            records,
            seconds,
            latencies.QuantileMicroseconds(0.50),
            latencies.QuantileMicroseconds(0.99),
            latencies.QuantileMicroseconds(0.999),
            latencies.MaxMicroseconds,
            latencies.MeanMicroseconds,
            countersAfter is { } after && countersBefore is { } before ? after.Since(before) : null,
            records > 0 ? (double)allocated / records : 0,
            records > 0 ? cpu.TotalMicroseconds / records : 0);
    }

    /// <summary>User + system time of the whole process (every thread: producers, writer, thread pool, GC).</summary>
    public static TimeSpan ProcessorTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private async Task<Producer> ProduceAsync(Producer producer)
    {
        var payloads = producer.Payloads;
        var done = false;
        while (!_stop && !done)
        {
            var started = Stopwatch.GetTimestamp();
            if (payloads.Length == 1)
            {
                await _engine.AppendAsync(payloads[0]);
            }
            else
            {
                await _engine.AppendBatchAsync(payloads);
            }

            done = Completed(producer, started);
        }

        return producer;
    }

    // An engine whose append blocks: each producer gets its own thread, as such an engine is used.
    private Task<Producer> ProduceOnThread(IBlockingAppendEngine engine, Producer producer, int index)
    {
        var finished = new TaskCompletionSource<Producer>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                var payloads = producer.Payloads;
                var done = false;
                while (!_stop && !done)
                {
                    var started = Stopwatch.GetTimestamp();
                    if (payloads.Length == 1)
                    {
                        engine.Append(payloads[0].Span);
                    }
                    else
                    {
                        engine.AppendBatch(payloads);
                    }

                    done = Completed(producer, started);
                }

                finished.SetResult(producer);
            }
            catch (Exception ex)
            {
                finished.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = $"producer.{index}",
        };
        thread.Start();
        return finished.Task;
    }

    // Counts a call that completed inside the measured window; true once the producer's quota is met.
    private bool Completed(Producer producer, long started)
    {
        var completed = Stopwatch.GetTimestamp();
        if (completed <= Volatile.Read(ref _measureStart) || completed > Volatile.Read(ref _measureEnd))
        {
            return false;
        }

        producer.Latencies.Record(completed - started);
        producer.Records += producer.Payloads.Length;
        if (producer.Quota > 0 && producer.Records >= producer.Quota)
        {
            producer.Finished = completed;
            return true;
        }

        return false;
    }

    private sealed class Producer
    {
        public Producer(int recordSize, int batch, long quota)
        {
            var payload = new byte[recordSize];
            Random.Shared.NextBytes(payload);
            Payloads = new ReadOnlyMemory<byte>[batch];
            Array.Fill(Payloads, payload);
            Quota = quota;
        }

        // The same bytes for every record of a batch: every engine copies what it is handed.
        public ReadOnlyMemory<byte>[] Payloads { get; }

        public long Records { get; set; }

        public long Quota { get; }

        public LatencyHistogram Latencies { get; } = new();

        public long Finished { get; set; }
    }
}
