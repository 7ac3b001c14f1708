using System.CommandLine;
using System.CommandLine.Parsing;

using TruthDb.Dataflow.Units;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>
/// Byte sizes on the command line, in the grammar the configuration layer reads too
/// (<see cref="Quantities.TryParseSize"/>): <c>65536</c>, <c>64KiB</c>, <c>1.5MiB</c>, <c>1MB</c> (= 1,000,000).
/// </summary>
internal static class Sizes
{
    /// <summary>A <c>--segment-size</c> option (default 64 MiB).</summary>
    public static Option<long> SegmentSizeOption() => new("--segment-size")
    {
        Description = "Size of new segment files, such as 64MiB (64KiB to 16GiB, a multiple of 4KiB; KiB/MiB/GiB are powers of 1024, kB/MB/GB of 1000).",
        DefaultValueFactory = _ => 64L * 1024 * 1024,
        CustomParser = Parse,
        HelpName = "size",
    };

    /// <summary>Parses the option's value as a size, or adds an error naming the option and the grammar.</summary>
    public static long Parse(ArgumentResult result) => Parse(result, 0, long.MaxValue);

    /// <summary>
    /// Parses the option's value as a size from <paramref name="least"/> to <paramref name="most"/>
    /// bytes (refused here, not in a validator: a validator reading the value throws when the parse
    /// itself failed).
    /// </summary>
    public static long Parse(ArgumentResult result, long least, long most)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        var name = result.Parent is OptionResult option ? option.Option.Name : "the value";
        if (!Quantities.TryParseSize(text, out var value))
        {
            result.AddError($"{name}: '{text}' is not {Quantities.SizeSyntax}.");
        }
        else if (value < least || value > most)
        {
            result.AddError($"{name} is {Show.Bytes(value)}; it must be {Show.Bytes(least)} to {Show.Bytes(most)}.");
        }

        return value;
    }
}
