using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>
/// The <c>walreader</c> and <c>walreader-poll</c> followers of the tail workload: this program run as a
/// child process (<c>--follow-and-exit</c>) that follows the log with a <see cref="WalReader"/>, as a
/// reader in another process does, notes when it saw each record (<see cref="Stopwatch.GetTimestamp"/>
/// reads the monotonic clock, which both processes share), and hands the times back in a file when it
/// has seen them all. It has its own thread pool: its wake-ups do not queue behind the producers'.
/// </summary>
internal sealed class FollowerChild : IDisposable
{
    private readonly Process _process;
    private readonly string _output;

    private FollowerChild(Process process, string output)
    {
        _process = process;
        _output = output;
    }

    /// <summary>Starts the child and waits until it follows the log in <paramref name="directory"/>.</summary>
    public static async Task<FollowerChild> StartAsync(string directory, long records, WalWatermark watermark, bool watch)
    {
        var output = Path.Combine(directory, "..", Path.GetFileName(directory) + ".seen");
        var start = SelfProcess.StartInfo("--follow-and-exit", directory, records.ToString(CultureInfo.InvariantCulture), watermark == WalWatermark.Written ? "written" : "durable", watch ? "watch" : "poll", output);
        start.RedirectStandardOutput = true;

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the follower process.");
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (line is not "following")
        {
            process.Kill();
            process.Dispose();
            throw new InvalidOperationException($"The follower process did not start following (it said '{line}').");
        }

        return new FollowerChild(process, output);
    }

    /// <summary>Waits for the child to have seen every record and copies when it saw each into <paramref name="seen"/>.</summary>
    public async Task CollectAsync(long[] seen, TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        if (_process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The follower process failed with exit code {_process.ExitCode}.");
        }

        var bytes = await File.ReadAllBytesAsync(_output);
        MemoryMarshal.Cast<byte, long>(bytes).CopyTo(seen);
    }

    /// <summary>Ends the child if it still runs and deletes its file.</summary>
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
        File.Delete(_output);
    }

    /// <summary>The child's side: follows, notes the time each record (by the ordinal in its first 8 bytes) was seen, writes the times, exits.</summary>
    public static async Task<int> FollowAndExitAsync(string directory, long records, string watermark, string mode, string output)
    {
        var seen = new long[records];
        using var reader = WalReader.Open(directory, watchForChanges: mode == "watch");
        var options = new ReadOptions { Follow = true, Watermark = watermark == "written" ? WalWatermark.Written : WalWatermark.Durable };
        Console.WriteLine("following");
        Console.Out.Flush();
        var count = 0L;
        await foreach (var record in reader.ReadAsync(1, options).ConfigureAwait(false))
        {
            var ordinal = BitConverter.ToInt64(record.Payload.Span);
            if (ordinal < 0)
            {
                // A warm-up record.
                continue;
            }

            seen[ordinal] = Stopwatch.GetTimestamp();
            if (++count == records)
            {
                break;
            }
        }

        if (mode == "watch" && !reader.WatchesForChanges)
        {
            await Console.Error.WriteLineAsync($"  the walreader follower polled instead of watching: {reader.PollingReason}");
        }

        await File.WriteAllBytesAsync(output, MemoryMarshal.AsBytes(seen.AsSpan()).ToArray());
        return 0;
    }
}
