namespace TruthDb.Dataflow.Cli.Tests.Support;

/// <summary>A generous timeout that only fails a hung test (each test starts processes: give them time on a loaded machine).</summary>
internal static class Timeouts
{
    public static CancellationToken Token() => new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;
}
