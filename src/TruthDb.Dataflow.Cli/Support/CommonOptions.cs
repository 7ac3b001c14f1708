using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>Options several verbs share.</summary>
internal static class CommonOptions
{
    /// <summary>The required <c>--dir</c> option: the log directory.</summary>
    public static Option<string> Directory() => new("--dir", "-d")
    {
        Description = "The log directory.",
        Required = true,
        HelpName = "path",
    };

    /// <summary>The <c>--verbose</c> option of the verbs that open a log for writing.</summary>
    public static Option<bool> Verbose() => new("--verbose")
    {
        Description = "Also print the engine's information and debug events on stderr (opening, recovery, segment rolls). Warnings and errors, such as what recovery truncated, are always printed.",
    };

    /// <summary>
    /// The logger a verb that opens a log for writing passes to the engine: warnings and errors on
    /// stderr always (recovery's report of what it truncated: segment, offset, bytes, LSN range), and
    /// every event from debug up with <c>--verbose</c>.
    /// </summary>
    public static ILogger EngineLogger(bool verbose) => new StderrLogger(verbose ? LogLevel.Debug : LogLevel.Warning);

    /// <summary>The <c>--durability</c> option: sync (default) or written.</summary>
    public static Option<string> Durability()
    {
        var option = new Option<string>("--durability")
        {
            Description = "When an append is acknowledged: 'sync' after the fdatasync of its batch (survives power loss), 'written' after the write (survives a process crash).",
            DefaultValueFactory = _ => "sync",
        };
        option.AcceptOnlyFromAmong("sync", "written");
        return option;
    }

    /// <summary>Maps the <c>--durability</c> value.</summary>
    public static Dataflow.Durability ParseDurability(string? value) =>
        string.Equals(value, "written", StringComparison.OrdinalIgnoreCase) ? Dataflow.Durability.Written : Dataflow.Durability.Sync;

    /// <summary>Adds a validator that rejects values below <paramref name="minimum"/>.</summary>
    public static Option<T> AtLeast<T>(this Option<T> option, T minimum)
        where T : struct, IComparable<T>
    {
        option.Validators.Add(result =>
        {
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                // Not a number at all: the parser reports that error itself.
                return;
            }

            if (value.CompareTo(minimum) < 0)
            {
                result.AddError($"{option.Name} must be at least {minimum} (got {value}).");
            }
        });
        return option;
    }

    /// <summary>
    /// Opens the log for writing, after checking <paramref name="options"/> the way the engine does so
    /// that a bad value is reported with its flag and exit code 2, and that a file given as --dir is
    /// named as one.
    /// </summary>
    public static async Task<Wal> OpenAsync(WalOptions options, CancellationToken ct)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new CliException(Messages.Of(ex), ExitCodes.Usage);
        }

        RequireNotFile(options.Directory!);
        return await Wal.OpenAsync(options, ct);
    }

    /// <summary>Fails when <paramref name="directory"/> is a file.</summary>
    public static void RequireNotFile(string directory)
    {
        if (File.Exists(directory))
        {
            throw new CliException($"--dir '{Path.GetFullPath(directory)}' is a file, not a log directory: give the directory that holds the segment files.");
        }
    }

    /// <summary>Fails with a clear message when <paramref name="directory"/> holds no log (so that read-only verbs never create one).</summary>
    public static void RequireExistingLog(string directory)
    {
        RequireNotFile(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new CliException($"The log directory '{Path.GetFullPath(directory)}' does not exist.");
        }

        foreach (var path in System.IO.Directory.EnumerateFiles(directory, "*.wal"))
        {
            if (Path.GetFileName(path).Length == 24)
            {
                return;
            }
        }

        throw new CliException($"There is no log in '{Path.GetFullPath(directory)}' (no segment files).");
    }
}
