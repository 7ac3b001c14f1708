using System.Diagnostics;

namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>
/// Tail latency of truthdb: producers append with <see cref="Durability.Sync"/> while one follower
/// reads the same log with <c>ReadAsync(1, new ReadOptions { Follow = true })</c> (durable
/// watermark). For every LSN the harness keeps when the producer's <c>AppendAsync</c> was called,
/// when it was acknowledged (the continuation ran), and when the follower saw the record, in arrays
/// allocated up front. Reported: acknowledgement → follower and call → follower, p50/p99/p99.9. The
/// follower is woken by the same publish that completes the appenders, so it often sees a record
/// before the producer's continuation has run: those (negative) gaps count as zero, and the
/// fraction of records the follower saw first is reported.
/// </summary>
internal static class TailRun
{
    public static async Task<TailResult> ExecuteAsync(string directory, int recordSize, int producers, long records, long segmentSize)
    {
        var perProducer = Math.Max(1, records / producers);
        records = perProducer * producers;
        var called = new long[records + 1];
        var acked = new long[records + 1];
        var seen = new long[records + 1];
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = directory, Durability = Durability.Sync, SegmentSize = segmentSize });
        using var stop = new CancellationTokenSource();
        var follower = Task.Run(async () =>
        {
            var count = 0L;
            await foreach (var record in wal.ReadAsync(1, new ReadOptions { Follow = true }, stop.Token).ConfigureAwait(false))
            {
                seen[record.Lsn] = Stopwatch.GetTimestamp();
                if (++count == records)
                {
                    break;
                }
            }
        });

        var total = records;
        var started = Stopwatch.GetTimestamp();
        var tasks = new Task[producers];
        for (var p = 0; p < producers; p++)
        {
            tasks[p] = Task.Run(async () =>
            {
                var payload = new byte[recordSize];
                for (var i = 0; i < perProducer; i++)
                {
                    var call = Stopwatch.GetTimestamp();
                    var lsn = await wal.AppendAsync(payload).ConfigureAwait(false);
                    var ack = Stopwatch.GetTimestamp();
                    called[lsn] = call;
                    acked[lsn] = ack;
                }
            });
        }

        await Task.WhenAll(tasks);
        var appended = Stopwatch.GetElapsedTime(started).TotalSeconds;

        if (await Task.WhenAny(follower, Task.Delay(TimeSpan.FromSeconds(30))) != follower)
        {
            await stop.CancelAsync();
            throw new InvalidOperationException("The follower did not see every durable record within 30 s.");
        }

        await follower;
        var fromAck = new LatencyHistogram();
        var fromCall = new LatencyHistogram();
        long followerFirst = 0;
        for (var lsn = 1; lsn <= total; lsn++)
        {
            if (seen[lsn] < acked[lsn])
            {
                followerFirst++;
            }

            fromAck.Record(Math.Max(0, seen[lsn] - acked[lsn]));
            fromCall.Record(Math.Max(0, seen[lsn] - called[lsn]));
        }

        return new TailResult(
            recordSize,
            producers,
            total,
            total / appended,
            fromAck.QuantileMicroseconds(0.5),
            fromAck.QuantileMicroseconds(0.99),
            fromAck.QuantileMicroseconds(0.999),
            fromCall.QuantileMicroseconds(0.5),
            fromCall.QuantileMicroseconds(0.99),
            (double)followerFirst / total);
    }
}

/// <summary>What one tail run measured.</summary>
internal sealed record TailResult(
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
