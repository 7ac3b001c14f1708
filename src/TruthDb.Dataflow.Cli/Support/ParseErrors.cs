using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>
/// The parser's errors in the CLI's words: "--from: 'abc' is not a whole number" instead of .NET's
/// "Cannot parse argument 'abc' for option '--from' as expected type 'System.Int64'", and no
/// "Required command was not provided." before the real complaint about an unknown verb.
/// </summary>
internal static partial class ParseErrors
{
    /// <summary>The lines to print for <paramref name="errors"/>, in order.</summary>
    public static IEnumerable<string> Describe(IReadOnlyList<ParseError> errors)
    {
        var unknownToken = errors.Any(e => e.Message.StartsWith("Unrecognized command or argument", StringComparison.Ordinal));
        foreach (var error in errors)
        {
            if (unknownToken && error.Message.StartsWith("Required command was not provided", StringComparison.Ordinal))
            {
                continue;
            }

            yield return Describe(error.Message);
        }
    }

    private static string Describe(string message)
    {
        var match = CannotParse().Match(message);
        if (match.Success)
        {
            var what = match.Groups["type"].Value switch
            {
                "System.Int64" or "System.Int32" or "System.Nullable`1[System.Int64]" or "System.Nullable`1[System.Int32]" => "a whole number",
                "System.Double" => "a number",
                "System.Boolean" => "true or false",
                "System.TimeSpan" => "a duration",
                _ => "a valid value",
            };
            return $"{match.Groups["option"].Value}: '{match.Groups["value"].Value}' is not {what}.";
        }

        var unknown = Unrecognized().Match(message);
        return unknown.Success
            ? $"'{unknown.Groups["token"].Value}' is not a verb or option here."
            : message;
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (option|argument) '(?<option>[^']*)' as expected type '(?<type>[^']*)'\.?$")]
    private static partial Regex CannotParse();

    [GeneratedRegex(@"^Unrecognized command or argument '(?<token>.*)'\.?$")]
    private static partial Regex Unrecognized();
}
