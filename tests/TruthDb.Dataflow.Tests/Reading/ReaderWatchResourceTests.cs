using TruthDb.Dataflow.Tests.Hosting;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Reading;

/// <summary>
/// What a watching <see cref="WalReader"/> holds in the process (an inotify descriptor, an eventfd and
/// a thread) and gives back on dispose. Counted from /proc/self, so no other test may run meanwhile.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public sealed class ReaderWatchResourceTests
{
    [Fact]
    public async Task Dispose_OfAWatchingReader_EndsItsThreadAndClosesItsDescriptors()
    {
        using var dir = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });
        await wal.AppendAsync(Payloads.Make(0, 0, 100));
        var before = Resources();

        var reader = WalReader.Open(dir.Path, TimeSpan.FromHours(1));
        using var cts = new CancellationTokenSource(Timeouts.Unexpected);
        var records = reader.ReadAsync(1, new ReadOptions { Follow = true }, cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await records.MoveNextAsync());
        var waiting = records.MoveNextAsync().AsTask();
        await wal.AppendAsync(Payloads.Make(0, 1, 100));
        Assert.True(await waiting.WaitAsync(Timeouts.Unexpected));
        Assert.True(reader.WatchesForChanges, reader.PollingReason);
        var watching = Resources();
        Assert.Equal(before with { Inotify = before.Inotify + 1, EventFds = before.EventFds + 1, Threads = before.Threads + 1 }, watching);

        // Dispose ends the waiting read too.
        waiting = records.MoveNextAsync().AsTask();
        reader.Dispose();
        Assert.False(await waiting.WaitAsync(Timeouts.Unexpected));
        await records.DisposeAsync();
        Assert.Equal(before, Resources());
    }

    private static Counts Resources()
    {
        int inotify = 0, eventFds = 0, threads = 0;
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            var target = LinkTarget(fd);
            inotify += target == "anon_inode:inotify" ? 1 : 0;
            eventFds += target == "anon_inode:[eventfd]" ? 1 : 0;
        }

        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            // Thread names are cut to 15 bytes: "truthdb-reader-watch" shows as "truthdb-reader-".
            threads += TryRead(Path.Combine(task, "comm"))?.Trim() == "truthdb-reader-" ? 1 : 0;
        }

        return new Counts(inotify, eventFds, threads);
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private sealed record Counts(int Inotify, int EventFds, int Threads);
}
