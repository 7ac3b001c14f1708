using System.Diagnostics;
using System.Globalization;
using System.Text;
using Nerdbank.Streams;

namespace TruthDb.Dataflow.Ipc.Tests.Support;

/// <summary>
/// The built tool running <c>truthdb serve</c> as a child process (<c>dotnet truthdb.dll serve ...</c>,
/// the dll built next to the tests). Its stderr carries the status lines; with <c>--stdio</c> its
/// stdin and stdout carry the protocol.
/// </summary>
internal sealed class ServeProcess : IAsyncDisposable
{
    private readonly StringBuilder _stderr = new();
    private readonly SemaphoreSlim _changed = new(0);
    private readonly Task _stderrPump;

    private ServeProcess(Process process)
    {
        Process = process;
        _stderrPump = Task.Run(PumpAsync);
    }

    public Process Process { get; }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts <c>truthdb</c> with <paramref name="args"/> (no waiting).</summary>
    public static ServeProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        new(ChildProcesses.StartTruthdb(args, environment));

    /// <summary>Starts <c>truthdb serve</c> and waits until it says it is serving.</summary>
    public static async Task<ServeProcess> StartServingAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var process = Start(["serve", .. args], environment);
        await process.WaitForStderrAsync("truthdb: serving", Timeouts.Token());
        return process;
    }

    /// <summary>The protocol over the child's stdin and stdout.</summary>
    public Stream StdioStream() => FullDuplexStream.Splice(Process.StandardOutput.BaseStream, Process.StandardInput.BaseStream);

    public async Task WaitForStderrAsync(string text, CancellationToken ct)
    {
        while (!Stderr.Contains(text, StringComparison.Ordinal))
        {
            if (_stderrPump.IsCompleted)
            {
                throw new InvalidOperationException($"truthdb ended before printing '{text}':\n{Stderr}");
            }

            await _changed.WaitAsync(ct);
        }
    }

    /// <summary>Sends a signal (TERM, INT) with kill(1).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, Process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(Timeouts.Token());
    }

    public async Task<int> WaitForExitAsync()
    {
        await Process.WaitForExitAsync(Timeouts.Token());
        await _stderrPump.WaitAsync(Timeouts.Token());
        return Process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcesses.KillAndDisposeAsync(Process, Timeouts.Token());
        _changed.Dispose();
    }

    private async Task PumpAsync()
    {
        var buffer = new char[4096];
        int read;
        while ((read = await Process.StandardError.ReadAsync(buffer)) > 0)
        {
            lock (_stderr)
            {
                _stderr.Append(buffer, 0, read);
            }

            _changed.Release();
        }

        _changed.Release();
    }
}
