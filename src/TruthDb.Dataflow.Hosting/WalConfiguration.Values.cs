using TruthDb.Dataflow.Units;

namespace TruthDb.Dataflow.Hosting;

/// <content>Parsing sizes and durations: the grammar shared with the truthdb command line.</content>
public static partial class WalConfiguration
{
    private const string SizeSyntax = Quantities.SizeSyntax;

    private const string DurationSyntax = Quantities.DurationSyntax;

    /// <summary>
    /// Parses a size: a plain byte count (<c>4096</c>), or a number (decimals allowed, as long as the
    /// result is a whole number of bytes) followed by a unit, with or without a space:
    /// <c>B</c>; <c>KiB</c>, <c>MiB</c>, <c>GiB</c>, <c>TiB</c> (also <c>Ki</c>, <c>Mi</c>, <c>Gi</c>,
    /// <c>Ti</c>) are powers of 1024; <c>kB</c>, <c>MB</c>, <c>GB</c>, <c>TB</c> are powers of 1000,
    /// as the SI and IEC define them. Units are case-insensitive (<c>KB</c> = <c>kB</c> = 1000 bytes).
    /// Bare <c>K</c>, <c>M</c>, <c>G</c> are refused: they mean 1000 to some tools and 1024 to others.
    /// The truthdb command line reads sizes the same way.
    /// </summary>
    public static bool TryParseSize(string? text, out long bytes) => Quantities.TryParseSize(text, out bytes);

    /// <summary>
    /// Parses a duration: a number (decimals allowed) followed by a unit, with or without a space:
    /// <c>us</c> (or <c>µs</c>), <c>ms</c>, <c>s</c>, <c>m</c> (or <c>min</c>), <c>h</c>, <c>d</c>;
    /// or a <see cref="TimeSpan"/> in the invariant <c>[-][d.]hh:mm:ss[.fffffff]</c> form; or <c>0</c>.
    /// Any other bare number is refused (to <see cref="TimeSpan"/> "5" is five days).
    /// The truthdb command line reads durations the same way.
    /// </summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration) => Quantities.TryParseDuration(text, out duration);
}
