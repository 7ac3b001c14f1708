using Spectre.Console;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>
/// Output: a Spectre.Console console for tables and progress on stdout. When stdout is redirected
/// there is no live progress (callers check <see cref="Interactive"/>) and tables are drawn wide
/// enough not to wrap, in plain characters.
/// </summary>
internal static class Terminal
{
    private static readonly Lazy<IAnsiConsole> Shared = new(Create);

    /// <summary>The console tables and progress go to.</summary>
    public static IAnsiConsole Console => Shared.Value;

    /// <summary>True when stdout is a terminal: live progress is drawn.</summary>
    public static bool Interactive => !System.Console.IsOutputRedirected;

    /// <summary>Writes an error line to stderr.</summary>
    public static void Error(string message) => System.Console.Error.WriteLine("truthdb: " + message);

    private static IAnsiConsole Create()
    {
        var redirected = System.Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(System.Console.Out),
        });
        if (redirected)
        {
            console.Profile.Width = 240;
        }

        return console;
    }
}
