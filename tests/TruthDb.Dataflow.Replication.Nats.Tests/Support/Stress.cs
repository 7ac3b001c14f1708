using System.Globalization;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>The stress switch: <c>TRUTHDB_STRESS_ROUNDS=n</c> multiplies the rounds of the kill and chaos tests (default 1).</summary>
internal static class Stress
{
    public static int Rounds => int.TryParse(Environment.GetEnvironmentVariable("TRUTHDB_STRESS_ROUNDS"), CultureInfo.InvariantCulture, out var rounds) && rounds > 0 ? rounds : 1;
}
