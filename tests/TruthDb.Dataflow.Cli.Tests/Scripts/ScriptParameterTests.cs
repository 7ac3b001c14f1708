using System.Diagnostics;

namespace TruthDb.Dataflow.Cli.Tests.Scripts;

/// <summary>
/// The F# scripts in scripts/ check their parameters before doing anything: a misspelt parameter or
/// a bad value stops the script with exit code 2, one line saying which, and the list of parameters
/// (run with <c>dotnet fsi</c>, as a user runs them; they load the Release build of the engine).
/// </summary>
public sealed class ScriptParameterTests
{
    [Theory]
    [InlineData("bench.fsx", "--prodcers", "4", "unknown parameter '--prodcers'")]
    [InlineData("bench.fsx", "--durability", "fast", "--durability takes sync or written, not 'fast'")]
    [InlineData("tail.fsx", "--seconds", "-1", "--seconds takes a number of seconds of at least 0.01, not '-1'")]
    [InlineData("etl.fsx", "--rows", "x", "--rows takes a whole number of at least 1, not 'x'")]
    public async Task Script_BadParameter_ExitsTwoNamingItAndListingParameters(string script, string name, string value, string message)
    {
        var (exitCode, stdout, stderr) = await RunScriptAsync(script, [name, value]);

        Assert.True(exitCode == 2, $"exit code {exitCode}\n{stdout}\n{stderr}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"{script}: {message}", lines[0]);
        Assert.Equal($"parameters of {script}:", lines[1]);
        Assert.Contains(lines, line => line.TrimStart().StartsWith(name == "--prodcers" ? "--producers" : name, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_MissingValue_ExitsTwo()
    {
        var (exitCode, _, stderr) = await RunScriptAsync("tail.fsx", ["--from"]);

        Assert.Equal(2, exitCode);
        Assert.StartsWith("tail.fsx: --from needs a value", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_ParametersFlag_ListsParametersAndSucceeds()
    {
        var (exitCode, stdout, _) = await RunScriptAsync("etl.fsx", ["--parameters"]);

        Assert.Equal(0, exitCode);
        Assert.Contains("--rows", stdout, StringComparison.Ordinal);
        Assert.Contains("--dir", stdout, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunScriptAsync(string script, string[] args)
    {
        var start = new ProcessStartInfo(ChildProcesses.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot(),
        };
        start.ArgumentList.Add("fsi");
        start.ArgumentList.Add(Path.Combine("scripts", script));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet fsi did not start.");
        var ct = Timeouts.Token();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return (process.ExitCode, await stdout, await stderr);
    }

    // The scripts live in the repository, not next to the tests: walk up from the test assembly.
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TruthDb.Dataflow.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No TruthDb.Dataflow.sln above '{AppContext.BaseDirectory}'.");
    }
}
