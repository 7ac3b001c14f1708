using System.Collections.Concurrent;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Writing;

/// <summary>
/// The watermark mirror shrunk (truncated to nothing or to a few bytes) under a live writer, by this
/// process or by another one, while appends run: the writer process lives, appends go on, the writer
/// says once that it stopped updating the mirror, and every acknowledged record is there after reopening.
/// (Before, the writer stored into a shared mapping of the file, and the next store after a truncate
/// killed the process with SIGBUS.)
/// </summary>
public sealed class MirrorShrinkTests
{
    private const long SegmentSize = WalOptions.MinSegmentSize;
    private const int MirrorStopped = 17;
    private const int Producers = 4;
    private const int AppendsPerProducer = 1500;
    private const int SigKillExitCode = 128 + 9;
    private const int ChildAcks = 3000;

    public enum Shrinker
    {
        ThisProcess,

        ChildProcess,
    }

    [Theory]
    [InlineData(0, Shrinker.ThisProcess, Durability.Sync)]
    [InlineData(5, Shrinker.ThisProcess, Durability.Sync)]
    [InlineData(0, Shrinker.ChildProcess, Durability.Sync)]
    [InlineData(5, Shrinker.ChildProcess, Durability.Sync)]
    [InlineData(0, Shrinker.ThisProcess, Durability.Written)]
    [InlineData(5, Shrinker.ChildProcess, Durability.Written)]
    public async Task Append_MirrorShrunkUnderLiveWriter_GoesOnAndKeepsEveryAcknowledgedRecord(int length, Shrinker shrinker, Durability durability)
    {
        using var dir = new TestDirectory();
        var logger = new TestLogger();
        var options = new WalOptions { Directory = dir.Path, SegmentSize = SegmentSize, Durability = durability, Logger = logger };
        var mirror = Path.Combine(dir.Path, WatermarkMirror.FileName);
        var acked = new ConcurrentDictionary<long, byte[]>();
        await using (var wal = await Wal.OpenAsync(options))
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var producers = new Task[Producers];
            for (var p = 0; p < Producers; p++)
            {
                var producer = p;
                producers[p] = Task.Run(async () =>
                {
                    for (var sequence = 0; sequence < AppendsPerProducer; sequence++)
                    {
                        var payload = Payloads.Make(producer, sequence, 20 + (sequence % 200));
                        Assert.True(acked.TryAdd(await wal.AppendAsync(payload), payload));
                        if (acked.Count >= 200)
                        {
                            started.TrySetResult();
                        }
                    }
                });
            }

            await started.Task.WaitAsync(Timeouts.Token());
            Shrink(mirror, length, shrinker);
            await Task.WhenAll(producers).WaitAsync(Timeouts.Token());

            // One more durable publish after the shrink, whatever the timing: the writer notices it by now.
            var payload = Payloads.Make(Producers, 0, 30);
            Assert.True(acked.TryAdd(await wal.AppendAsync(payload), payload));
            await wal.FlushAsync(Timeouts.Token());
        }

        var stopped = Assert.Single(logger.Events(MirrorStopped));
        Assert.Contains("shrunk", stopped.Exception!.Message, StringComparison.Ordinal);
        await AssertReopenedLogHoldsAsync(dir.Path, acked);
    }

    [Theory]
    [InlineData(0, Shrinker.ChildProcess)]
    [InlineData(0, Shrinker.ThisProcess)]
    [InlineData(5, Shrinker.ChildProcess)]
    public async Task ChildWriter_MirrorShrunkUnderIt_LivesAndKeepsAcknowledging(int length, Shrinker shrinker)
    {
        using var dir = new TestDirectory();
        var mirror = Path.Combine(dir.Path, WatermarkMirror.FileName);
        var ct = Timeouts.Token();
        await using var child = CrashChild.Start(dir.Path, producers: 4, SegmentSize, ackTarget: ChildAcks);
        Assert.True(await child.Opened.WaitAsync(ct), "the child never opened the log: " + await DescribeAsync(child, ct));

        // Each batch of the child holds at most 4 records (4 producers, one append in flight each), and
        // publishes its watermarks into the mirror (with the old shared mapping, the first store after
        // the shrink was a SIGBUS). Acknowledgements 1,000 LSNs past what the mirror said just before the
        // shrink come from hundreds of batches after it.
        await AcksAtLeastAsync(child, 300, ct);
        var before = BitConverter.ToInt64(File.ReadAllBytes(mirror), WatermarkMirror.WrittenOffset);
        Shrink(mirror, length, shrinker);
        Assert.True(await child.AcksReached.WaitAsync(ct), "the child stopped acknowledging after its mirror was shrunk: " + await DescribeAsync(child, ct));
        await AcksAtLeastAsync(child, (int)before + 1000, ct);
        var exitCode = await child.KillAsync(ct);
        Assert.True(exitCode == SigKillExitCode, $"the child must have lived until killed, but it ended with {exitCode}: " + await DescribeAsync(child, ct));
        Assert.Empty(child.UnexpectedLines);

        var acked = child.Acks.ToDictionary(a => a.Lsn);
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = SegmentSize }, ct);
        var found = 0;
        await foreach (var record in wal.ReadAsync(0, null, ct))
        {
            if (!Payloads.IsIntact(record.Payload.Span, out var producer, out var sequence))
            {
                Assert.Fail($"record {record.Lsn} is not an intact payload of the child");
            }

            if (acked.TryGetValue(record.Lsn, out var ack))
            {
                Assert.Equal((ack.Producer, ack.Sequence, ack.Length), (producer, sequence, record.Payload.Length));
                found++;
            }
        }

        Assert.Equal(acked.Count, found);
    }

    private static void Shrink(string path, int length, Shrinker shrinker)
    {
        if (shrinker == Shrinker.ChildProcess)
        {
            SmallFileSystem.Run("truncate", "--size", length.ToString(System.Globalization.CultureInfo.InvariantCulture), path);
            return;
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        file.SetLength(length);
    }

    // The child's acknowledgements arrive on its output; this waits for them to reach a count, and
    // fails at once when the output ends first (the child died).
    private static async Task AcksAtLeastAsync(CrashChild child, int count, CancellationToken ct)
    {
        while (child.Acks.Count < count)
        {
            if (child.AcksReached.IsCompleted && !child.AcksReached.Result)
            {
                Assert.Fail($"the child stopped after {child.Acks.Count} acknowledgements: " + await DescribeAsync(child, ct));
            }

            await Task.WhenAny(child.AcksReached, Task.Delay(5, ct));
            ct.ThrowIfCancellationRequested();
        }
    }

    private static async Task<string> DescribeAsync(CrashChild child, CancellationToken ct)
    {
        using var soon = CancellationTokenSource.CreateLinkedTokenSource(ct);
        soon.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            return await child.DescribeEndAsync(soon.Token);
        }
        catch (OperationCanceledException)
        {
            return "(the child is still running)";
        }
    }

    private static async Task AssertReopenedLogHoldsAsync(string directory, ConcurrentDictionary<long, byte[]> acked)
    {
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = directory, SegmentSize = SegmentSize });
        var records = await wal.ReadAllAsync();
        Assert.Equal(acked.Count, records.Count);
        foreach (var (lsn, payload) in records)
        {
            Assert.True(acked.TryGetValue(lsn, out var expected) && expected.AsSpan().SequenceEqual(payload), $"record {lsn} differs from what was acknowledged");
        }

        // Reopened, the writer made the mirror whole again.
        Assert.Equal(WatermarkMirror.Size, new FileInfo(Path.Combine(directory, WatermarkMirror.FileName)).Length);
        Assert.Equal(records.Count + 1, await wal.AppendAsync(new byte[10]));
    }
}
