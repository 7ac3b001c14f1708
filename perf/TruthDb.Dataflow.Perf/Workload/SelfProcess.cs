using System.Diagnostics;

namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>This program started again as a child, with other arguments.</summary>
internal static class SelfProcess
{
    /// <summary>
    /// How to start this program with <paramref name="args"/>: through its own executable (as
    /// <c>dotnet run</c> starts it), or, when it runs as <c>dotnet TruthDb.Dataflow.Perf.dll</c>, through
    /// the same <c>dotnet</c> host with the same assembly.
    /// </summary>
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this program's path to start a child process.");
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
