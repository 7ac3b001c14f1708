namespace TruthDb.Dataflow.Perf.DiskProbe;

/// <summary>One disk probe: a write of <paramref name="WriteBytes"/> followed by a sync, in a loop.</summary>
internal sealed record ProbeResult(string Name, int WriteBytes, long Operations, double Seconds, double P50Micros, double P99Micros)
{
    public double OperationsPerSecond => Seconds > 0 ? Operations / Seconds : 0;

    public double MegabytesPerSecond => OperationsPerSecond * WriteBytes / (1024.0 * 1024);
}
