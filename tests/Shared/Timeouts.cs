// Shared source: compiled into every test project.
namespace TruthDb.Dataflow.Testing;

/// <summary>
/// A generous timeout that only fails a hung test: nothing waits on a clock for an event to happen.
/// Tests start processes and servers on a loaded 2-core machine, so the default is minutes, not
/// seconds.
/// </summary>
internal static class Timeouts
{
    /// <summary>How long a wait may take before the test counts as hung.</summary>
    public static readonly TimeSpan Unexpected = TimeSpan.FromMinutes(2);

    /// <summary>A token cancelled after <see cref="Unexpected"/>.</summary>
    public static CancellationToken Token() => new CancellationTokenSource(Unexpected).Token;

    /// <summary>A token cancelled after <paramref name="minutes"/> minutes (a test that runs long on purpose).</summary>
    public static CancellationToken Token(int minutes) => new CancellationTokenSource(TimeSpan.FromMinutes(minutes)).Token;
}
