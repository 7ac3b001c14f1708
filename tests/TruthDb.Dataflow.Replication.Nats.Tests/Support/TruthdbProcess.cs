using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>What a finished <c>truthdb</c> process left.</summary>
internal sealed record TruthdbResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// The built <c>truthdb</c> (<c>dotnet truthdb.dll</c>, next to the test assembly) as a child process,
/// output redirected (so it prints plain progress lines), with ways to await a line, interrupt it
/// (SIGINT, SIGTERM) or kill it (SIGKILL).
/// </summary>
internal sealed class TruthdbProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Task _pumps;
    private readonly SemaphoreSlim _changed = new(0);

    private TruthdbProcess(Process process)
    {
        _process = process;
        _pumps = Task.WhenAll(Task.Run(() => PumpAsync(process.StandardOutput, _stdout)), Task.Run(() => PumpAsync(process.StandardError, _stderr)));
    }

    public static TruthdbProcess Start(IEnumerable<string> args) => new(ChildProcesses.StartTruthdb(args));

    /// <summary>Runs <c>truthdb</c> to its end.</summary>
    public static async Task<TruthdbResult> RunAsync(IEnumerable<string> args, CancellationToken ct)
    {
        await using var process = Start(args);
        return await process.WaitAsync(ct);
    }

    public string Stdout => Read(_stdout);

    public string Stderr => Read(_stderr);

    /// <summary>Waits until stdout satisfies <paramref name="done"/>; fails if the process ends first.</summary>
    public Task WaitForOutputAsync(Func<string, bool> done, CancellationToken ct) => WaitForAsync(() => done(Stdout), ct);

    /// <summary>Waits until stderr (where <c>serve</c> prints its status lines) contains <paramref name="text"/>; fails if the process ends first.</summary>
    public Task WaitForStderrAsync(string text, CancellationToken ct) => WaitForAsync(() => Stderr.Contains(text, StringComparison.Ordinal), ct);

    private async Task WaitForAsync(Func<bool> done, CancellationToken ct)
    {
        while (!done())
        {
            if (_pumps.IsCompleted)
            {
                throw new InvalidOperationException("truthdb ended before printing what was awaited:\n" + await WaitAsync(ct));
            }

            await _changed.WaitAsync(ct);
        }
    }

    /// <summary>Sends a signal by name (INT, TERM).</summary>
    public async Task SignalAsync(string signal, CancellationToken ct)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(ct);
    }

    /// <summary>SIGKILL: the process ends at once, wherever it is.</summary>
    public async Task KillAsync(CancellationToken ct)
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // It had exited.
        }

        await _process.WaitForExitAsync(ct);
    }

    public async Task<TruthdbResult> WaitAsync(CancellationToken ct)
    {
        await _process.WaitForExitAsync(ct);
        await _pumps.WaitAsync(ct);
        return new TruthdbResult(_process.ExitCode, Stdout, Stderr);
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcesses.KillAndDisposeAsync(_process, Timeouts.Token());
        _changed.Dispose();
    }

    private static string Read(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    private async Task PumpAsync(StreamReader reader, StringBuilder text)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (text)
            {
                text.Append(buffer, 0, read);
            }

            _changed.Release();
        }

        _changed.Release();
    }
}
