using System.Diagnostics;

namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>
/// Recovery time of truthdb: a child process (this program with <c>--fill-and-exit</c>) fills a log
/// with a given amount of payload and exits without disposing it (an unclean close: nothing is
/// drained or sealed beyond what the writer had done; the writer lock dies with the process). The
/// harness then times <c>Wal.OpenAsync</c> on that directory (header checks of every segment, a
/// scan of the last segment's tail), twice: the first open runs recovery after the unclean exit,
/// the second after a clean close, both with the page cache hot.
/// </summary>
internal static class RecoveryRun
{
    public static async Task<RecoveryResult> ExecuteAsync(string directory, int recordSize, long mebibytes, long segmentSize)
    {
        await RunFillChildAsync("truthdb", directory, recordSize, mebibytes, segmentSize);
        var segments = Directory.GetFiles(directory, "*.wal").Length;
        var unclean = Stopwatch.GetTimestamp();
        var wal = await Wal.OpenAsync(new WalOptions { Directory = directory, SegmentSize = segmentSize });
        var uncleanSeconds = Stopwatch.GetElapsedTime(unclean).TotalSeconds;
        var lastLsn = wal.DurableLsn;
        await wal.DisposeAsync();

        var clean = Stopwatch.GetTimestamp();
        await using (await Wal.OpenAsync(new WalOptions { Directory = directory, SegmentSize = segmentSize }))
        {
            var cleanSeconds = Stopwatch.GetElapsedTime(clean).TotalSeconds;
            return new RecoveryResult(recordSize, mebibytes, segments, lastLsn, uncleanSeconds * 1000, cleanSeconds * 1000);
        }
    }

    /// <summary>Runs this program as a child that fills a log of <paramref name="engine"/> and exits without closing it.</summary>
    public static async Task RunFillChildAsync(string engine, string directory, int recordSize, long mebibytes, long segmentSize)
    {
        var start = SelfProcess.StartInfo("--fill-and-exit", engine, directory, mebibytes.ToString(System.Globalization.CultureInfo.InvariantCulture), recordSize.ToString(System.Globalization.CultureInfo.InvariantCulture), segmentSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the fill process.");
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The fill process failed with exit code {process.ExitCode}.");
        }
    }

    /// <summary>
    /// The child's side: fill, then exit without disposing. truthdb: every append acknowledged as
    /// Written (the OS has it). FasterLog: every entry enqueued and one commit completed.
    /// </summary>
    public static async Task<int> FillAndExitAsync(string engine, string directory, long mebibytes, int recordSize, long segmentSize)
    {
        if (engine == "fasterlog")
        {
            await FasterLogReadSide.FillAsync(directory, recordSize, mebibytes, dispose: false);
        }
        else
        {
            await LogFill.FillAsync(directory, recordSize, mebibytes, segmentSize, dispose: false);
        }

        Environment.Exit(0);
        return 0;
    }
}

/// <summary>What one recovery run measured.</summary>
internal sealed record RecoveryResult(int RecordSize, long Mebibytes, int Segments, long LastLsn, double UncleanOpenMillis, double CleanOpenMillis);
