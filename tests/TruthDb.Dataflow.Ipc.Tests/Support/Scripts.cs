using System.Diagnostics;

namespace TruthDb.Dataflow.Ipc.Tests.Support;

/// <summary>The interop clients in other languages (Interop/&lt;language&gt;/), found and run as child processes.</summary>
internal static class Scripts
{
    /// <summary>The folder Interop/<paramref name="language"/> holding <paramref name="file"/>, searched upwards from the test binaries.</summary>
    public static string Folder(string language, string file)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Interop", language);
            if (File.Exists(Path.Combine(candidate, file)))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"Interop/{language}/{file} was not found above {AppContext.BaseDirectory}");
    }

    /// <summary>A file of the repository (e.g. <c>docs/ipc-protocol.md</c>), searched upwards from the test binaries.</summary>
    public static string RepositoryFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{relative} was not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs <paramref name="program"/> in <paramref name="folder"/>: its exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string program, IEnumerable<string> args, string folder, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException(program + " did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(Timeouts.Token());
        return (process.ExitCode, await stdout, await stderr);
    }
}
