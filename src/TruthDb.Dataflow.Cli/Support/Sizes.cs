using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>Byte sizes on the command line: a number of bytes, optionally with KiB, MiB or GiB.</summary>
internal static class Sizes
{
    /// <summary>A <c>--segment-size</c> option (default 64 MiB).</summary>
    public static Option<long> SegmentSizeOption() => new("--segment-size")
    {
        Description = "Size of new segment files: bytes, or with KiB/MiB/GiB (64KiB to 16GiB, a multiple of 4KiB).",
        DefaultValueFactory = _ => 64L * 1024 * 1024,
        CustomParser = Parse,
        HelpName = "size",
    };

    private static long Parse(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (TryParse(text, out var value))
        {
            return value;
        }

        result.AddError($"'{text}' is not a size: give bytes, or a number with KiB, MiB or GiB (e.g. 64MiB).");
        return 0;
    }

    /// <summary>Parses <c>65536</c>, <c>64KiB</c>, <c>64MiB</c>, <c>1GiB</c> (also KB/MB/GB and K/M/G, all binary).</summary>
    public static bool TryParse(string text, out long value)
    {
        value = 0;
        var s = text.Trim();
        long unit = 1;
        foreach (var (suffix, factor) in new (string, long)[] { ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("KB", 1L << 10), ("MB", 1L << 20), ("GB", 1L << 30), ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30) })
        {
            if (s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                unit = factor;
                s = s[..^suffix.Length].Trim();
                break;
            }
        }

        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > long.MaxValue / unit)
        {
            return false;
        }

        value = number * unit;
        return true;
    }
}
