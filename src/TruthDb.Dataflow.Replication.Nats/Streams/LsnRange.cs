using System.Globalization;

namespace TruthDb.Dataflow.Replication.Nats.Streams;

/// <summary>LSN ranges in messages: "LSN 7" or "LSN 7 to 9 (3 LSNs)".</summary>
internal static class LsnRange
{
    public static string Text(long from, long to) => from == to
        ? "LSN " + from.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"LSN {from} to {to} ({to - from + 1} LSNs)");

    /// <summary>A message's LSNs without a count: "LSN 7" or "LSN 7 to 9".</summary>
    public static string Span(long from, long to) => from == to
        ? "LSN " + from.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"LSN {from} to {to}");
}
