namespace TruthDb.Dataflow.Tests.Support;

/// <summary>
/// A generous timeout that only fails a hung test: nothing waits on a clock for an event to happen.
/// </summary>
internal static class Timeouts
{
    public static readonly TimeSpan Unexpected = TimeSpan.FromMinutes(2);

    public static CancellationToken Token() => new CancellationTokenSource(Unexpected).Token;
}
