// Shared source: compiled into the truthdb CLI (bench) and the perf harness, which both record
// append latencies the same way.
using System.Diagnostics;
using System.Numerics;

namespace TruthDb.Dataflow.Measurement;

/// <summary>
/// A log-linear histogram of latencies in <see cref="Stopwatch"/> ticks, allocated once, so recording
/// allocates nothing. Values below 128 ticks are kept exactly; above, each power of two is split into
/// 128 buckets, so a reported percentile is within 1% of the true value.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 7;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int BucketCount = SubBuckets * (64 - SubBucketBits);

    private readonly long[] _counts = new long[BucketCount];
    private long _total;
    private long _sum;
    private long _max;

    /// <summary>Recorded values.</summary>
    public long Count => _total;

    /// <summary>Adds one latency of <paramref name="ticks"/>.</summary>
    public void Record(long ticks)
    {
        if (ticks < 0)
        {
            ticks = 0;
        }

        _counts[Index(ticks)]++;
        _total++;
        _sum += ticks;
        if (ticks > _max)
        {
            _max = ticks;
        }
    }

    /// <summary>Adds everything <paramref name="other"/> holds.</summary>
    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < BucketCount; i++)
        {
            _counts[i] += other._counts[i];
        }

        _total += other._total;
        _sum += other._sum;
        _max = Math.Max(_max, other._max);
    }

    /// <summary>The latency at quantile <paramref name="q"/> (0..1) in microseconds; 0 when empty.</summary>
    public double QuantileMicroseconds(double q)
    {
        if (_total == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(q * _total);
        rank = Math.Clamp(rank, 1, _total);
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Microseconds(Math.Min(Midpoint(i), _max));
            }
        }

        return Microseconds(_max);
    }

    /// <summary>Mean latency in microseconds; 0 when empty.</summary>
    public double MeanMicroseconds => _total == 0 ? 0 : Microseconds(_sum) / _total;

    /// <summary>Largest latency in microseconds.</summary>
    public double MaxMicroseconds => Microseconds(_max);

    private static double Microseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    private static int Index(long value)
    {
        if (value < SubBuckets)
        {
            return (int)value;
        }

        var exponent = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = exponent - SubBucketBits;
        var sub = (int)(value >> shift) - SubBuckets;
        return (SubBuckets * (shift + 1)) + sub;
    }

    private static long Midpoint(int index)
    {
        if (index < SubBuckets)
        {
            return index;
        }

        var shift = (index / SubBuckets) - 1;
        var sub = index % SubBuckets;
        var low = (long)(SubBuckets + sub) << shift;
        return low + ((1L << shift) >> 1);
    }
}
