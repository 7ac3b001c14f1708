using System.Globalization;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>Number formatting for output: invariant culture, binary size units.</summary>
internal static class Show
{
    /// <summary>The culture all output uses.</summary>
    public static CultureInfo Invariant => CultureInfo.InvariantCulture;

    /// <summary><paramref name="bytes"/> in B, KiB, MiB or GiB.</summary>
    public static string Bytes(double bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (1L << 30)).ToString("0.##", Invariant) + " GiB",
        >= 1L << 20 => (bytes / (1L << 20)).ToString("0.##", Invariant) + " MiB",
        >= 1L << 10 => (bytes / (1L << 10)).ToString("0.##", Invariant) + " KiB",
        _ => bytes.ToString("0", Invariant) + " B",
    };
}
