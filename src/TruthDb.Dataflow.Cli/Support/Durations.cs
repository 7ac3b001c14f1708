using System.CommandLine;
using System.CommandLine.Parsing;

using TruthDb.Dataflow.Units;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>
/// Durations on the command line, in the grammar the configuration layer reads too
/// (<see cref="Quantities.TryParseDuration(string?, TimeSpan, out TimeSpan)"/>): <c>250ms</c>, <c>5s</c>,
/// <c>2m</c>, <c>00:00:05</c>; a bare number is seconds, as these options always took.
/// </summary>
internal static class Durations
{
    /// <summary>An option taking a duration from <paramref name="least"/> to <paramref name="most"/>.</summary>
    public static Option<TimeSpan> Option(string name, string description, TimeSpan defaultValue, TimeSpan least, TimeSpan most)
    {
        return new Option<TimeSpan>(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => Parse(result, least, most),
            HelpName = "duration",
        };
    }

    /// <summary>Parses the option's value as a duration of at least zero, or adds an error naming the option and the grammar.</summary>
    public static TimeSpan Parse(ArgumentResult result) => Parse(result, TimeSpan.Zero, TimeSpan.MaxValue);

    // A value outside [least, most] is refused here too: a validator reading the value would throw
    // when the parse itself failed.
    private static TimeSpan Parse(ArgumentResult result, TimeSpan least, TimeSpan most)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        var name = result.Parent is OptionResult option ? option.Option.Name : "the value";
        if (!Quantities.TryParseDuration(text, TimeSpan.FromSeconds(1), out var value) || value < TimeSpan.Zero)
        {
            result.AddError($"{name}: '{text}' is not {Quantities.DurationSyntax}, or a number of seconds.");
        }
        else if (value < least || value > most)
        {
            result.AddError($"{name} is {Show(value)}; it must be {Show(least)} to {Show(most)}.");
        }

        return value;
    }

    private static string Show(TimeSpan value) => value switch
    {
        { TotalDays: >= 1 } when value.Ticks % TimeSpan.TicksPerDay == 0 => $"{value.TotalDays:0}d",
        { TotalHours: >= 1 } when value.Ticks % TimeSpan.TicksPerHour == 0 => $"{value.TotalHours:0}h",
        { TotalMinutes: >= 1 } when value.Ticks % TimeSpan.TicksPerMinute == 0 => $"{value.TotalMinutes:0}m",
        { TotalSeconds: >= 1 } => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.###}s"),
        _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0.###}ms"),
    };
}
