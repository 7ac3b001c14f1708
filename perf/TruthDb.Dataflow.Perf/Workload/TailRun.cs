using System.Buffers.Binary;
using System.Diagnostics;
using FASTER.core;
using TruthDb.Dataflow.Perf.Engines;

namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>
/// Tail latency: producers append durably while one follower reads the same log as records become
/// durable. truthdb: <c>AppendAsync</c> with <see cref="Durability.Sync"/>, the follower
/// <c>ReadAsync(1, new ReadOptions { Follow = true })</c> (durable watermark); with
/// <see cref="Durability.Written"/>, the follower reads up to the written watermark. The follower is
/// one of <see cref="Followers"/>: the writing <see cref="Wal"/> itself, a <see cref="WalReader"/> in a
/// child process (<see cref="FollowerChild"/>) woken by change notifications or polling, or none (the
/// writer alone, for its throughput). FasterLog
/// (<c>fasterlog-fast</c>, its fastest durable set-up): <c>EnqueueAndWaitForCommitAsync</c> with the
/// committer task, the follower <c>Scan(BeginAddress, long.MaxValue)</c> (committed entries only) with
/// <c>WaitAsync</c> and zero-copy <c>UnsafeGetNext</c>. Every record carries its ordinal in its first 8
/// bytes; for every ordinal the harness keeps when the append was called, when it was acknowledged (the
/// continuation ran), and when the follower saw it, in arrays allocated up front. Reported:
/// acknowledgement → follower and call → follower, p50/p99/p99.9. The follower is woken by the same
/// commit that completes the appenders, so it often sees a record before the producer's continuation
/// has run: those (negative) gaps count as zero, and the fraction of records the follower saw first is
/// reported.
/// </summary>
internal static class TailRun
{
    /// <summary>The engines the tail workload runs.</summary>
    public static readonly string[] Engines = [TruthDbEngine.EngineName, FasterLogEngine.FastName];

    /// <summary>The in-process follower: the engine's own reader (truthdb's <see cref="Wal.ReadAsync"/>, FasterLog's scan).</summary>
    public const string InProcess = "wal";

    /// <summary>A <see cref="WalReader"/> in another process, woken by change notifications.</summary>
    public const string Reader = "walreader";

    /// <summary>A <see cref="WalReader"/> in another process with watching turned off: it polls.</summary>
    public const string PollingReader = "walreader-poll";

    /// <summary>No follower: the writer's throughput alone.</summary>
    public const string NoFollower = "none";

    /// <summary>The followers of <c>--tail-follower</c>; all but <see cref="InProcess"/> are truthdb's only.</summary>
    public static readonly string[] Followers = [InProcess, Reader, PollingReader, NoFollower];

    /// <summary>
    /// One run: <paramref name="warmup"/> of unmeasured appends (ordinal -1: followers skip them; they
    /// let every thread start and the read path be compiled, in a child follower too), then
    /// <paramref name="records"/> measured ones.
    /// </summary>
    public static async Task<TailResult> ExecuteAsync(string engine, string follower, Durability durability, string directory, int recordSize, int producers, long records, long segmentSize, TimeSpan warmup)
    {
        var perProducer = Math.Max(1, records / producers);
        var times = new Timeline(perProducer * producers);
        await using var appender = await EngineCatalog.OpenAsync(engine, new EngineSettings(directory, durability, segmentSize));
        var watermark = durability == Durability.Written ? WalWatermark.Written : WalWatermark.Durable;
        using var child = appender is TruthDbEngine && follower is Reader or PollingReader
            ? await FollowerChild.StartAsync(directory, times.Records, watermark, watch: follower == Reader)
            : null;
        using var stop = new CancellationTokenSource();
        var following = (appender, follower) switch
        {
            (TruthDbEngine, NoFollower) => Task.CompletedTask,
            (TruthDbEngine, Reader or PollingReader) => child!.CollectAsync(times.Seen, TimeSpan.FromSeconds(30) + TimeSpan.FromSeconds(times.Records / 1000.0)),
            (TruthDbEngine truthdb, InProcess) => Task.Run(() => FollowAsync(truthdb.Wal, watermark, times, stop.Token)),
            (FasterLogEngine faster, InProcess) when durability == Durability.Sync => Task.Run(() => FollowAsync(faster.Log, times, stop.Token)),
            _ => throw new ArgumentException($"The tail workload runs {string.Join(" and ", Engines)} (FasterLog durable, with its own follower only), not '{engine}' with follower '{follower}'.", nameof(engine)),
        };

        var warmupEnd = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var warming = new Task[producers];
        for (var p = 0; p < producers; p++)
        {
            warming[p] = Task.Run(async () =>
            {
                var payload = new byte[Math.Max(recordSize, sizeof(long))];
                BinaryPrimitives.WriteInt64LittleEndian(payload, -1);
                while (Stopwatch.GetTimestamp() < warmupEnd)
                {
                    await appender.AppendAsync(payload).ConfigureAwait(false);
                }
            });
        }

        await Task.WhenAll(warming);
        var started = Stopwatch.GetTimestamp();
        var tasks = new Task[producers];
        for (var p = 0; p < producers; p++)
        {
            var first = p * perProducer;
            tasks[p] = Task.Run(async () =>
            {
                var payload = new byte[Math.Max(recordSize, sizeof(long))];
                for (var ordinal = first; ordinal < first + perProducer; ordinal++)
                {
                    // Both engines copy the payload before the call's first await.
                    BinaryPrimitives.WriteInt64LittleEndian(payload, ordinal);
                    times.Called[ordinal] = Stopwatch.GetTimestamp();
                    await appender.AppendAsync(payload).ConfigureAwait(false);
                    times.Acked[ordinal] = Stopwatch.GetTimestamp();
                }
            });
        }

        await Task.WhenAll(tasks);
        var appended = Stopwatch.GetElapsedTime(started).TotalSeconds;

        if (await Task.WhenAny(following, Task.Delay(TimeSpan.FromSeconds(30))) != following)
        {
            await stop.CancelAsync();
            throw new InvalidOperationException($"The {engine} follower did not see every durable record within 30 s.");
        }

        await following;
        return times.Result(engine, follower == NoFollower ? null : follower, durability, recordSize, producers, appended);
    }

    private static async Task FollowAsync(Wal wal, WalWatermark watermark, Timeline times, CancellationToken ct)
    {
        var count = 0L;
        await foreach (var record in wal.ReadAsync(1, new ReadOptions { Follow = true, Watermark = watermark }, ct).ConfigureAwait(false))
        {
            var ordinal = BinaryPrimitives.ReadInt64LittleEndian(record.Payload.Span);
            if (ordinal < 0)
            {
                continue;
            }

            times.Seen[ordinal] = Stopwatch.GetTimestamp();
            if (++count == times.Records)
            {
                return;
            }
        }
    }

    private static async Task FollowAsync(FasterLog log, Timeline times, CancellationToken ct)
    {
        using var iterator = log.Scan(log.BeginAddress, long.MaxValue);
        var count = 0L;
        while (true)
        {
            count += Drain(iterator, times);
            if (count >= times.Records)
            {
                return;
            }

            await iterator.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    private static unsafe long Drain(FasterLogScanIterator iterator, Timeline times)
    {
        long count = 0;
        while (iterator.UnsafeGetNext(out var entry, out _, out _, out _))
        {
            var ordinal = *(long*)entry;
            iterator.UnsafeRelease();
            if (ordinal >= 0)
            {
                times.Seen[ordinal] = Stopwatch.GetTimestamp();
                count++;
            }
        }

        return count;
    }

    private sealed class Timeline(long records)
    {
        public long Records { get; } = records;

        public long[] Called { get; } = new long[records];

        public long[] Acked { get; } = new long[records];

        public long[] Seen { get; } = new long[records];

        // follower null: nobody followed (the latency figures are NaN).
        public TailResult Result(string engine, string? follower, Durability durability, int recordSize, int producers, double appendSeconds)
        {
            if (follower is null)
            {
                return new TailResult(engine, NoFollower, durability, recordSize, producers, Records, Records / appendSeconds,
                    double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
            }

            var fromAck = new LatencyHistogram();
            var fromCall = new LatencyHistogram();
            long followerFirst = 0;
            for (var i = 0; i < Records; i++)
            {
                if (Seen[i] < Acked[i])
                {
                    followerFirst++;
                }

                fromAck.Record(Math.Max(0, Seen[i] - Acked[i]));
                fromCall.Record(Math.Max(0, Seen[i] - Called[i]));
            }

            return new TailResult(
                engine,
                follower,
                durability,
                recordSize,
                producers,
                Records,
                Records / appendSeconds,
                fromAck.QuantileMicroseconds(0.5),
                fromAck.QuantileMicroseconds(0.99),
                fromAck.QuantileMicroseconds(0.999),
                fromCall.QuantileMicroseconds(0.5),
                fromCall.QuantileMicroseconds(0.99),
                (double)followerFirst / Records);
        }
    }
}

/// <summary>What one tail run measured.</summary>
internal sealed record TailResult(
    string Engine,
    string Follower,
    Durability Durability,
    int RecordSize,
    int Producers,
    long Records,
    double RecordsPerSecond,
    double AckToFollowerP50Micros,
    double AckToFollowerP99Micros,
    double AckToFollowerP999Micros,
    double CallToFollowerP50Micros,
    double CallToFollowerP99Micros,
    double FollowerFirstFraction);
