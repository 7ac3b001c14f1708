namespace TruthDb.Dataflow.Ipc.Tests.Support;

/// <summary>A generous timeout that only fails a hung test.</summary>
internal static class Timeouts
{
    public static CancellationToken Token() => new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;
}
