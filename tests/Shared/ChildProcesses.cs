// Shared source: compiled into both test projects, which start built programs as child processes.
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
