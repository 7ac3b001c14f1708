using System.Diagnostics;
using System.Globalization;
using System.Text;


namespace TruthDb.Dataflow.Tests.Support;

/// <summary>One acknowledged append, as the crash child reported it.</summary>
internal readonly record struct ChildAck(long Lsn, int Producer, int Sequence, int Length);

/// <summary>
/// A running <c>TruthDb.Dataflow.CrashChild</c> process: it opens (recovers) a log, prints
/// <c>open &lt;durableLsn&gt;</c>, then appends from several producers with <see cref="Durability.Sync"/>
/// and prints <c>ack &lt;lsn&gt; &lt;producer&gt; &lt;sequence&gt; &lt;length&gt;</c> for every acknowledged
/// append, until it is killed. Its output is parsed as it arrives; a last line the kill cut short is
/// ignored (it reports nothing that can be relied on).
/// </summary>
internal sealed class CrashChild : IAsyncDisposable
{
    private const string AssemblyName = "TruthDb.Dataflow.CrashChild";

    private readonly Process _process;
    private readonly Stopwatch _sinceStart = Stopwatch.StartNew();
    private readonly int _ackTarget;
    private readonly TaskCompletionSource<bool> _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<bool> _acksReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<ChildAck> _acks = [];
    private readonly List<string> _unexpected = [];
    private readonly Task _stdout;
    private readonly Task<string> _stderr;

    private CrashChild(Process process, int ackTarget)
    {
        _process = process;
        _ackTarget = ackTarget;
        _stderr = process.StandardError.ReadToEndAsync();
        _stdout = Task.Run(() => ReadOutputAsync(process.StandardOutput));
    }

    /// <summary>The durable LSN the child reported after recovering the log; null when it was killed before.</summary>
    public long? OpenLsn { get; private set; }

    /// <summary>How long after its start the child reported the open log; null when it was killed before.</summary>
    public TimeSpan? TimeToOpen { get; private set; }

    /// <summary>Every acknowledgement read in full. Complete once <see cref="KillAsync"/> returned.</summary>
    public IReadOnlyList<ChildAck> Acks => _acks;

    /// <summary>Lines that follow neither format (the child must print none).</summary>
    public IReadOnlyList<string> UnexpectedLines => _unexpected;

    /// <summary>The unterminated last line the kill cut short, if any (ignored).</summary>
    public string? CutLine { get; private set; }

    /// <summary>True once the child has printed its <c>open</c> line; false if its output ended first.</summary>
    public Task<bool> Opened => _opened.Task;

    /// <summary>True once the child has printed the requested number of acks; false if its output ended first.</summary>
    public Task<bool> AcksReached => _acksReached.Task;

    /// <summary>
    /// Starts <c>dotnet TruthDb.Dataflow.CrashChild.dll &lt;directory&gt; &lt;producers&gt; &lt;segmentSize&gt;</c>;
    /// the dll is built next to the test assembly (the test project references the child project).
    /// With <paramref name="onInput"/>, the child appends one record per <see cref="AppendOneAsync"/> instead.
    /// </summary>
    public static CrashChild Start(string directory, int producers, long segmentSize, int ackTarget, bool onInput = false, Durability durability = Durability.Sync)
    {
        if (onInput && durability != Durability.Sync)
        {
            throw new ArgumentException("A child that appends on input runs Durability.Sync.", nameof(durability));
        }

        var dll = Path.Combine(AppContext.BaseDirectory, AssemblyName + ".dll");
        foreach (var needed in new[] { dll, Path.ChangeExtension(dll, ".runtimeconfig.json"), Path.ChangeExtension(dll, ".deps.json") })
        {
            if (!File.Exists(needed))
            {
                throw new FileNotFoundException($"The crash child is not built next to the tests: '{needed}' is missing.", needed);
            }
        }

        var start = new ProcessStartInfo(ChildProcesses.DotnetHost())
        {
            RedirectStandardInput = onInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(directory);
        start.ArgumentList.Add(producers.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(segmentSize.ToString(CultureInfo.InvariantCulture));
        if (onInput)
        {
            start.ArgumentList.Add("on-input");
        }
        else if (durability == Durability.Written)
        {
            start.ArgumentList.Add("written");
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("The crash child did not start.");
        return new CrashChild(process, ackTarget);
    }

    /// <summary>Asks a child started with <c>onInput</c> to append one more record.</summary>
    public async Task AppendOneAsync()
    {
        await _process.StandardInput.WriteLineAsync();
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>
    /// Kills the child (<see cref="Process.Kill()"/> is SIGKILL on Unix: no handler, no flush, no
    /// disposal runs), waits for it to exit and for its output to end, and returns its exit code
    /// (128 + 9 on Unix for a death by SIGKILL).
    /// </summary>
    public async Task<int> KillAsync(CancellationToken ct)
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // It had already exited; the exit code tells how.
        }

        await _process.WaitForExitAsync(ct);
        await _stdout.WaitAsync(ct);
        return _process.ExitCode;
    }

    /// <summary>How the child ended, with whatever it wrote to stderr (for failure messages).</summary>
    public async Task<string> DescribeEndAsync(CancellationToken ct)
    {
        await _process.WaitForExitAsync(ct);
        var stderr = await _stderr.WaitAsync(ct);
        return $"the crash child exited with code {_process.ExitCode} on its own; stderr: {(stderr.Length == 0 ? "(empty)" : stderr)}";
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcesses.KillAndDisposeAsync(_process, Timeouts.Token());
    }

    private async Task ReadOutputAsync(StreamReader output)
    {
        var buffer = new char[8192];
        var line = new StringBuilder();
        int read;
        while ((read = await output.ReadAsync(buffer)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] == '\n')
                {
                    OnLine(line.ToString());
                    line.Clear();
                }
                else
                {
                    line.Append(buffer[i]);
                }
            }
        }

        CutLine = line.Length > 0 ? line.ToString() : null;
        _opened.TrySetResult(false);
        _acksReached.TrySetResult(false);
    }

    private void OnLine(string line)
    {
        var parts = line.Split(' ');
        var invariant = CultureInfo.InvariantCulture;
        if (parts is ["open", var durable] && long.TryParse(durable, NumberStyles.None, invariant, out var open))
        {
            OpenLsn = open;
            TimeToOpen = _sinceStart.Elapsed;
            _opened.TrySetResult(true);
        }
        else if (parts is ["ack", var lsn, var producer, var sequence, var length]
                 && long.TryParse(lsn, NumberStyles.None, invariant, out var ackLsn)
                 && int.TryParse(producer, NumberStyles.None, invariant, out var ackProducer)
                 && int.TryParse(sequence, NumberStyles.None, invariant, out var ackSequence)
                 && int.TryParse(length, NumberStyles.None, invariant, out var ackLength))
        {
            _acks.Add(new ChildAck(ackLsn, ackProducer, ackSequence, ackLength));
            if (_acks.Count >= _ackTarget)
            {
                _acksReached.TrySetResult(true);
            }
        }
        else
        {
            _unexpected.Add(line);
        }
    }
}
