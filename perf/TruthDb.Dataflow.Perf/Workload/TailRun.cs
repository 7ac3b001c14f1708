using System.Buffers.Binary;
using System.Diagnostics;
using FASTER.core;
using TruthDb.Dataflow.Perf.Engines;

namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>
/// Tail latency: producers append durably while one follower reads the same log as records become
/// durable. truthdb: <c>AppendAsync</c> with <see cref="Durability.Sync"/>, the follower
/// <c>ReadAsync(1, new ReadOptions { Follow = true })</c> (durable watermark). FasterLog
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

    public static async Task<TailResult> ExecuteAsync(string engine, string directory, int recordSize, int producers, long records, long segmentSize)
    {
        var perProducer = Math.Max(1, records / producers);
        var times = new Timeline(perProducer * producers);
        await using var appender = await EngineCatalog.OpenAsync(engine, new EngineSettings(directory, Durability.Sync, segmentSize));
        using var stop = new CancellationTokenSource();
        var follower = appender switch
        {
            TruthDbEngine truthdb => Task.Run(() => FollowAsync(truthdb.Wal, times, stop.Token)),
            FasterLogEngine faster => Task.Run(() => FollowAsync(faster.Log, times, stop.Token)),
            _ => throw new ArgumentException($"The tail workload runs {string.Join(" and ", Engines)}, not '{engine}'.", nameof(engine)),
        };

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

        if (await Task.WhenAny(follower, Task.Delay(TimeSpan.FromSeconds(30))) != follower)
        {
            await stop.CancelAsync();
            throw new InvalidOperationException($"The {engine} follower did not see every durable record within 30 s.");
        }

        await follower;
        return times.Result(engine, recordSize, producers, appended);
    }

    private static async Task FollowAsync(Wal wal, Timeline times, CancellationToken ct)
    {
        var count = 0L;
        await foreach (var record in wal.ReadAsync(1, new ReadOptions { Follow = true }, ct).ConfigureAwait(false))
        {
            times.Seen[BinaryPrimitives.ReadInt64LittleEndian(record.Payload.Span)] = Stopwatch.GetTimestamp();
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
            times.Seen[*(long*)entry] = Stopwatch.GetTimestamp();
            iterator.UnsafeRelease();
            count++;
        }

        return count;
    }

    private sealed class Timeline(long records)
    {
        public long Records { get; } = records;

        public long[] Called { get; } = new long[records];

        public long[] Acked { get; } = new long[records];

        public long[] Seen { get; } = new long[records];

        public TailResult Result(string engine, int recordSize, int producers, double appendSeconds)
        {
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
