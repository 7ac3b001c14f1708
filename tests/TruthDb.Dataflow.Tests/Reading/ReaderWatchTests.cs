using System.Threading.Channels;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Reading;

/// <summary>
/// How a <see cref="WalReader"/> in another process than the writer learns of new records: woken by the
/// file system's change notifications, listing the segments again only when they change; polling when
/// notifications cannot be used. The poll interval is an hour wherever a test shows that a wake came
/// from a notification: the safety-net tick (and a polling nap) would come too late for the test.
/// </summary>
public sealed class ReaderWatchTests
{
    private static readonly TimeSpan Never = TimeSpan.FromHours(1);

    [Fact]
    public async Task WalReader_WaitingAtTheTail_IsWokenByEachAppendOfAWriterInAnotherProcess()
    {
        using var dir = new TestDirectory();
        await using (var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 }))
        {
            await wal.AppendAsync(Payloads.Make(0, 0, 20));
        }

        await using var child = CrashChild.Start(dir.Path, producers: 1, segmentSize: 64 * 1024, ackTarget: 1, onInput: true);
        Assert.True(await child.Opened.WaitAsync(Timeouts.Unexpected));
        using var reader = WalReader.Open(dir.Path, Never);
        using var cts = new CancellationTokenSource(Timeouts.Unexpected);
        await using var records = reader.ReadAsync(1, new ReadOptions { Follow = true }, cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await records.MoveNextAsync());
        Assert.Equal(1, records.Current.Lsn);
        for (var i = 0; i < 5; i++)
        {
            // The reader waits at the tail (or is about to): only the child's append can end the wait.
            var next = records.MoveNextAsync().AsTask();
            await child.AppendOneAsync();
            Assert.True(await next.WaitAsync(Timeouts.Unexpected));
            Assert.Equal(i + 2, records.Current.Lsn);
            Assert.True(Payloads.IsIntact(records.Current.Payload.Span, out var producer, out var sequence));
            Assert.Equal((0, i), (producer, sequence));
        }

        Assert.True(reader.WatchesForChanges, reader.PollingReason);
        Assert.Null(reader.PollingReason);
    }

    [Fact]
    public async Task WalReader_FollowingAtTheTail_ListsTheSegmentsOnlyWhenOneIsAddedOrDeleted()
    {
        using var dir = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });
        await wal.AppendAsync(Payloads.Make(0, 0, 100));
        var storage = new CountingStorage(new FileSystemStorage(dir.Path));
        using var reader = WalReader.Open(storage, Never);
        using var cts = new CancellationTokenSource(Timeouts.Unexpected);
        var seen = Channel.CreateUnbounded<long>();
        var follower = FollowAsync(reader, seen.Writer, cts.Token);
        Assert.Equal(1, await seen.Reader.ReadAsync(cts.Token));

        // Appends within the first segment: the reader is woken by each, and lists nothing.
        var lsn = 1L;
        lsn = await AppendAndSeeAsync(wal, seen.Reader, lsn, 10, 100, cts.Token);
        Assert.True(reader.WatchesForChanges, reader.PollingReason);
        var listingsWithinSegment = storage.Listings;
        lsn = await AppendAndSeeAsync(wal, seen.Reader, lsn, 20, 100, cts.Token);
        Assert.Equal(listingsWithinSegment, storage.Listings);

        // Records that fill several segments: the reader lists the new ones and reads every record.
        lsn = await AppendAndSeeAsync(wal, seen.Reader, lsn, 400, 600, cts.Token);
        var segments = Directory.GetFiles(dir.Path, "*.wal").Length;
        Assert.True(segments >= 3, $"{segments} segments");
        Assert.True(storage.Listings > listingsWithinSegment);

        // Retention deletes segments: the waiting reader lists them again without a new record.
        var beforeRetention = storage.Listings;
        await wal.TruncateBeforeAsync(lsn);
        await storage.ListedMoreThanAsync(beforeRetention, cts.Token);
        await AppendAndSeeAsync(wal, seen.Reader, lsn, 1, 100, cts.Token);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follower);
    }

    [Fact]
    public async Task WalReader_WithWatchingTurnedOff_PollsAndDeliversEveryRecord()
    {
        using var dir = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });
        await wal.AppendAsync(Payloads.Make(0, 0, 100));
        using var reader = WalReader.Open(dir.Path, TimeSpan.FromMilliseconds(20), watchForChanges: false);
        await AssertFollowsAsync(wal, reader);
        Assert.False(reader.WatchesForChanges);
        Assert.Equal("watching was turned off", reader.PollingReason);
    }

    [Fact]
    public async Task WalReader_WhenTheWatchCannotStart_PollsAndSaysWhy()
    {
        using var dir = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });
        await wal.AppendAsync(Payloads.Make(0, 0, 100));
        var failure = new IOException("inotify_init1 failed: Too many open files (errno 24).", 24);
        using var reader = WalReader.Open(new CountingStorage(new FileSystemStorage(dir.Path), failure), TimeSpan.FromMilliseconds(20));
        await AssertFollowsAsync(wal, reader);
        Assert.False(reader.WatchesForChanges);
        Assert.Contains("Too many open files", reader.PollingReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WalReader_OverASimulatedStorage_PollsBecauseItHasNoNotifications()
    {
        var storage = new Storage.SimulatedStorage("sim://watch");
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        await wal.AppendAsync(Payloads.Make(0, 0, 100));
        using var reader = WalReader.Open(storage, TimeSpan.FromMilliseconds(20));
        await AssertFollowsAsync(wal, reader);
        Assert.False(reader.WatchesForChanges);
        Assert.Contains("no change notifications", reader.PollingReason, StringComparison.Ordinal);
    }

    // Appends count records of length bytes one at a time; the follower must see each.
    private static async Task<long> AppendAndSeeAsync(Wal wal, ChannelReader<long> seen, long last, int count, int length, CancellationToken ct)
    {
        for (var i = 0; i < count; i++)
        {
            var lsn = await wal.AppendAsync(Payloads.Make(1, (int)last, length), ct);
            Assert.Equal(lsn, await seen.ReadAsync(ct));
            last = lsn;
        }

        return last;
    }

    private static async Task FollowAsync(WalReader reader, ChannelWriter<long> seen, CancellationToken ct)
    {
        await Task.Yield();
        await foreach (var record in reader.ReadAsync(1, new ReadOptions { Follow = true }, ct))
        {
            Assert.True(Payloads.IsIntact(record.Payload.Span, out _, out _));
            await seen.WriteAsync(record.Lsn, ct);
        }
    }

    // The follower sees 300 records appended while it follows, across segments.
    private static async Task AssertFollowsAsync(Wal wal, WalReader reader)
    {
        using var cts = new CancellationTokenSource(Timeouts.Unexpected);
        var seen = Channel.CreateUnbounded<long>();
        var follower = FollowAsync(reader, seen.Writer, cts.Token);
        Assert.Equal(1, await seen.Reader.ReadAsync(cts.Token));
        await AppendAndSeeAsync(wal, seen.Reader, 1, 300, 600, cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follower);
    }
}
