using System.Globalization;
using System.Text;
using System.Diagnostics;

namespace TruthDb.Dataflow.Cli.Tests.Support;

/// <summary>
/// <c>truthdb serve --dir LOG --socket SOCKET</c> running as a child process for a test: started and
/// awaited until it says it serves; stopped with SIGTERM (and awaited) on dispose.
/// </summary>
internal sealed class ServedLog : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly SemaphoreSlim _changed = new(0);
    private readonly Task _stderrPump;

    private ServedLog(Process process, string socket)
    {
        _process = process;
        Socket = socket;
        _stderrPump = Task.Run(PumpAsync);
    }

    /// <summary>The socket path the server listens on.</summary>
    public string Socket { get; }

    /// <summary>What the server printed on stderr so far.</summary>
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

    /// <summary>Serves <paramref name="log"/>'s directory on a socket in its folder, with <paramref name="extra"/> serve options.</summary>
    public static async Task<ServedLog> StartAsync(LogDirectory log, IEnumerable<string>? extra = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var socket = Path.Combine(log.Root, "truthdb.sock");
        var served = new ServedLog(ChildProcesses.StartTruthdb(["serve", "--dir", log.Dir, "--socket", socket, .. extra ?? []], environment), socket);
        try
        {
            await served.WaitForStderrAsync("truthdb: serving", Timeouts.Token());
        }
        catch
        {
            await served.DisposeAsync();
            throw;
        }

        return served;
    }

    /// <summary>Stops the server with SIGTERM and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync(Timeouts.Token());
        }

        await _process.WaitForExitAsync(Timeouts.Token());
        await _stderrPump.WaitAsync(Timeouts.Token());
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            await ChildProcesses.KillAndDisposeAsync(_process, Timeouts.Token());
            _changed.Dispose();
        }
    }

    private async Task WaitForStderrAsync(string text, CancellationToken ct)
    {
        while (!Stderr.Contains(text, StringComparison.Ordinal))
        {
            if (_stderrPump.IsCompleted)
            {
                throw new InvalidOperationException($"truthdb serve ended before printing '{text}':\n{Stderr}");
            }

            await _changed.WaitAsync(ct);
        }
    }

    private async Task PumpAsync()
    {
        var buffer = new char[4096];
        int read;
        while ((read = await _process.StandardError.ReadAsync(buffer)) > 0)
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
