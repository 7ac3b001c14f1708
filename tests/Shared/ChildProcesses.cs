// Shared source: compiled into every test project that starts built programs as child processes.
using System.Diagnostics;

namespace TruthDb.Dataflow.Testing;

/// <summary>Starting and ending child processes of the tests.</summary>
internal static class ChildProcesses
{
    /// <summary>
    /// The dotnet host to start a built program with: under <c>dotnet test</c> the test host itself
    /// runs on it; otherwise the one the SDK names (DOTNET_HOST_PATH), else the one on the PATH.
    /// </summary>
    public static string DotnetHost()
    {
        var current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    }

    /// <summary>
    /// Starts the <c>truthdb</c> tool built next to the tests (<c>truthdb.dll</c>, run as a user runs
    /// it) with <paramref name="args"/>, stdin, stdout and stderr redirected, and optionally extra
    /// environment variables.
    /// </summary>
    public static Process StartTruthdb(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "truthdb.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"The tool is not built next to the tests: '{dll}' is missing.", dll);
        }

        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return Process.Start(start) ?? throw new InvalidOperationException("truthdb did not start.");
    }

    /// <summary>Kills the process if it still runs, waits for it, and disposes it.</summary>
    public static async ValueTask KillAndDisposeAsync(Process process, CancellationToken ct)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync(ct);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }
        finally
        {
            process.Dispose();
        }
    }
}
