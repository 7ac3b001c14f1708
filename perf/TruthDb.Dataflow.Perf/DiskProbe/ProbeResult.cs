namespace TruthDb.Dataflow.Perf.DiskProbe;

/// <summary>
/// One probe: <paramref name="Operations"/> writes of <paramref name="WriteBytes"/> each (0 for a probe
/// that writes nothing), and <paramref name="Syncs"/> fdatasync calls, in <paramref name="Seconds"/>.
/// </summary>
internal sealed record ProbeResult(string Name, int WriteBytes, long Operations, long Syncs, double Seconds, double P50Micros, double P99Micros)
{
    public double OperationsPerSecond => Seconds > 0 ? Operations / Seconds : 0;

    public double SyncsPerSecond => Seconds > 0 ? Syncs / Seconds : 0;

    public double MegabytesPerSecond => OperationsPerSecond * WriteBytes / (1024.0 * 1024);
}
