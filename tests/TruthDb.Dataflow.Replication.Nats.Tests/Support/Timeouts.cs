namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>A generous timeout that only fails a hung test (servers, child processes and a loaded 2-core machine).</summary>
internal static class Timeouts
{
    public static CancellationToken Token(int minutes = 2) => new CancellationTokenSource(TimeSpan.FromMinutes(minutes)).Token;
}
