using System.Diagnostics;
using System.Text;


namespace TruthDb.Dataflow.Cli.Tests.Support;

/// <summary>What a finished <c>truthdb</c> process left: exit code and its whole output.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// Runs the built tool as a process: <c>dotnet truthdb.dll ...</c>, the dll built next to the test
/// assembly (the test project references the CLI project). Output is redirected, so the tool draws
/// no live progress and plain tables.
/// </summary>
internal sealed class Truthdb : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly Task _stdoutPump;
    private readonly Task<string> _stderr;
    private readonly SemaphoreSlim _changed = new(0);

    private Truthdb(Process process)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
        _stdoutPump = Task.Run(PumpAsync);
    }

    /// <summary>Runs <c>truthdb</c> with <paramref name="args"/>, feeds <paramref name="stdin"/> (or nothing), and waits for it to exit.</summary>
    public static Task<CliResult> RunAsync(IEnumerable<string> args, byte[]? stdin = null, CancellationToken ct = default) =>
        RunAsync(args, null, stdin, ct);

    /// <summary>Runs <c>truthdb</c> with <paramref name="args"/> and <paramref name="environment"/> variables set, feeds <paramref name="stdin"/>, and waits for it to exit.</summary>
    public static async Task<CliResult> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment, byte[]? stdin, CancellationToken ct)
    {
        await using var process = Start(args, environment);
        await process.WriteStdinAsync(stdin ?? [], ct);
        return await process.WaitAsync(ct);
    }

    /// <summary>Runs with text on stdin.</summary>
    public static Task<CliResult> RunAsync(IEnumerable<string> args, string stdin, CancellationToken ct = default) =>
        RunAsync(args, Encoding.UTF8.GetBytes(stdin), ct);

    /// <summary>Starts <c>truthdb</c> with <paramref name="args"/>; stdin stays open until <see cref="WriteStdinAsync"/>.</summary>
    public static Truthdb Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) => new(ChildProcesses.StartTruthdb(args, environment));

    /// <summary>What the process printed so far.</summary>
    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to stdin and closes it.</summary>
    public async Task WriteStdinAsync(byte[] bytes, CancellationToken ct)
    {
        try
        {
            await _process.StandardInput.BaseStream.WriteAsync(bytes, ct);
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The tool exited without reading its input (a usage error): its exit code tells.
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to stdin and flushes them, leaving stdin open.</summary>
    public async Task SendAsync(byte[] bytes, CancellationToken ct)
    {
        await _process.StandardInput.BaseStream.WriteAsync(bytes, ct);
        await _process.StandardInput.BaseStream.FlushAsync(ct);
    }

    /// <summary>Waits until stdout satisfies <paramref name="done"/>.</summary>
    public async Task WaitForOutputAsync(Func<string, bool> done, CancellationToken ct)
    {
        while (!done(Stdout))
        {
            if (_stdoutPump.IsCompleted)
            {
                throw new InvalidOperationException("truthdb ended before printing what was awaited:\n" + await WaitAsync(ct));
            }

            await _changed.WaitAsync(ct);
        }
    }

    /// <summary>Sends SIGINT (what Ctrl+C sends).</summary>
    public async Task InterruptAsync(CancellationToken ct)
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(ct);
    }

    /// <summary>Waits for the process to exit and returns what it left.</summary>
    public async Task<CliResult> WaitAsync(CancellationToken ct)
    {
        await _process.WaitForExitAsync(ct);
        await _stdoutPump.WaitAsync(ct);
        return new CliResult(_process.ExitCode, Stdout, await _stderr.WaitAsync(ct));
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcesses.KillAndDisposeAsync(_process, Timeouts.Token());
        _changed.Dispose();
    }

    private async Task PumpAsync()
    {
        var buffer = new char[8192];
        int read;
        while ((read = await _process.StandardOutput.ReadAsync(buffer)) > 0)
        {
            lock (_stdout)
            {
                _stdout.Append(buffer, 0, read);
            }

            _changed.Release();
        }

        _changed.Release();
    }
}
