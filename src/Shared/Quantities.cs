// Shared source: compiled into the configuration layer (TruthDb.Dataflow.Hosting) and the truthdb CLI,
// so a size or a duration means the same in a configuration file, an environment variable and on the
// command line: one grammar, one parser.
using System.Globalization;

namespace TruthDb.Dataflow.Units;

/// <summary>The grammar of sizes (<c>64MiB</c>, <c>1.5GiB</c>, <c>4096</c>) and durations (<c>250ms</c>, <c>5s</c>, <c>00:00:05</c>).</summary>
internal static class Quantities
{
    /// <summary>What a size looks like, for error messages.</summary>
    public const string SizeSyntax =
        "a size: a byte count (4096) or a number with a unit, KiB, MiB, GiB, TiB (powers of 1024) or kB, MB, GB, TB (powers of 1000), such as 64MiB";

    /// <summary>What a duration looks like, for error messages.</summary>
    public const string DurationSyntax =
        "a duration: a number with a unit, us, ms, s, m (or min), h, d, such as 250ms or 5s, or a TimeSpan such as 00:00:05";

    private static readonly (string Unit, long Bytes)[] SizeUnits =
    [
        ("B", 1),
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40),
        ("kB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
    ];

    private static readonly (string Unit, long Ticks)[] DurationUnits =
    [
        ("us", TimeSpan.TicksPerMicrosecond), ("µs", TimeSpan.TicksPerMicrosecond),
        ("ms", TimeSpan.TicksPerMillisecond),
        ("s", TimeSpan.TicksPerSecond),
        ("m", TimeSpan.TicksPerMinute), ("min", TimeSpan.TicksPerMinute),
        ("h", TimeSpan.TicksPerHour),
        ("d", TimeSpan.TicksPerDay),
    ];

    /// <summary>
    /// Parses a size: a plain byte count (<c>4096</c>), or a number (decimals allowed, as long as the
    /// result is a whole number of bytes) followed by a unit, with or without a space:
    /// <c>B</c>; <c>KiB</c>, <c>MiB</c>, <c>GiB</c>, <c>TiB</c> (also <c>Ki</c>, <c>Mi</c>, <c>Gi</c>,
    /// <c>Ti</c>) are powers of 1024; <c>kB</c>, <c>MB</c>, <c>GB</c>, <c>TB</c> are powers of 1000,
    /// as the SI and IEC define them. Units are case-insensitive (<c>KB</c> = <c>kB</c> = 1000 bytes).
    /// Bare <c>K</c>, <c>M</c>, <c>G</c> are refused: they mean 1000 to some tools and 1024 to others.
    /// </summary>
    public static bool TryParseSize(string? text, out long bytes)
    {
        bytes = 0;
        if (!TrySplit(text, out var number, out var unit) || number < 0)
        {
            return false;
        }

        long multiplier = 1;
        if (unit.Length > 0)
        {
            var match = Array.FindIndex(SizeUnits, u => unit.Equals(u.Unit, StringComparison.OrdinalIgnoreCase));
            if (match < 0)
            {
                return false;
            }

            multiplier = SizeUnits[match].Bytes;
        }

        return TryScale(number, multiplier, out bytes);
    }

    /// <summary>
    /// Parses a duration: a number (decimals allowed) followed by a unit, with or without a space:
    /// <c>us</c> (or <c>µs</c>), <c>ms</c>, <c>s</c>, <c>m</c> (or <c>min</c>), <c>h</c>, <c>d</c>;
    /// or a <see cref="TimeSpan"/> in the invariant <c>[-][d.]hh:mm:ss[.fffffff]</c> form; or <c>0</c>.
    /// Any other bare number is refused (to <see cref="TimeSpan"/> "5" is five days).
    /// </summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration) => TryParseDuration(text, TimeSpan.Zero, out duration);

    /// <summary>
    /// Parses a duration as <see cref="TryParseDuration(string?, out TimeSpan)"/> does, except that a
    /// bare number counts <paramref name="bareNumberUnit"/> (the command line's options that always
    /// took seconds, such as <c>--duration 3</c>, go on taking them); <see cref="TimeSpan.Zero"/>
    /// refuses a bare number other than 0.
    /// </summary>
    public static bool TryParseDuration(string? text, TimeSpan bareNumberUnit, out TimeSpan duration)
    {
        duration = default;
        if (text is null)
        {
            return false;
        }

        var trimmed = text.Trim();
        if (trimmed.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out duration);
        }

        if (!TrySplit(trimmed, out var number, out var unit))
        {
            return false;
        }

        long ticksPerUnit;
        if (unit.Length == 0)
        {
            // Only zero needs no unit, unless the caller names the unit of a bare number.
            ticksPerUnit = bareNumberUnit > TimeSpan.Zero ? bareNumberUnit.Ticks : 1;
            if (number != 0 && bareNumberUnit <= TimeSpan.Zero)
            {
                return false;
            }
        }
        else
        {
            var match = Array.FindIndex(DurationUnits, u => unit.Equals(u.Unit, StringComparison.OrdinalIgnoreCase));
            if (match < 0)
            {
                return false;
            }

            ticksPerUnit = DurationUnits[match].Ticks;
        }

        if (!TryScale(number, ticksPerUnit, out var ticks))
        {
            return false;
        }

        duration = TimeSpan.FromTicks(ticks);
        return true;
    }

    // "64MiB" -> (64, "MiB"); "1.5 s" -> (1.5, "s"); "4096" -> (4096, "").
    private static bool TrySplit(string? text, out decimal number, out string unit)
    {
        number = 0;
        unit = string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        var end = 0;
        while (end < trimmed.Length && (char.IsAsciiDigit(trimmed[end]) || trimmed[end] is '.' or '-' or '+'))
        {
            end++;
        }

        unit = trimmed[end..].Trim();
        return end > 0 && decimal.TryParse(trimmed.AsSpan(0, end), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number);
    }

    private static bool TryScale(decimal number, long multiplier, out long result)
    {
        result = 0;
        try
        {
            var scaled = number * multiplier;
            if (scaled != decimal.Truncate(scaled) || scaled > long.MaxValue || scaled < long.MinValue)
            {
                return false;
            }

            result = (long)scaled;
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }
}
