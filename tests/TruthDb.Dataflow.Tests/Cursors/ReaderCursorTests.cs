using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Cursors;

public sealed class ReaderCursorTests
{
    [Fact]
    public async Task ReaderCommit_WhileTheWriterIsOpen_IsSeenByTheWriterAndHoldsBackItsRetention()
    {
        using var dir = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });
        for (var i = 0; i < 400; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 600));
        }

        using var reader = WalReader.Open(dir.Path);
        Assert.Equal(wal.LogId, reader.LogId);
        Assert.Equal(0, reader.GetCursor("replicator"));
        var read = new List<long>();
        await foreach (var record in reader.ReadFromCursorAsync("replicator"))
        {
            read.Add(record.Lsn);
            if (read.Count == 50)
            {
                break;
            }
        }

        await reader.CommitCursorAsync("replicator", read[^1]);
        Assert.Equal(50, reader.GetCursor("replicator"));
        Assert.Equal(50, wal.GetCursor("replicator"));
        Assert.Equal(50, wal.Cursors["replicator"]);

        await wal.TruncateBeforeAsync(390);
        Assert.True(wal.FirstLsn is > 0 and <= 51, $"retention passed the reader's cursor: FirstLsn {wal.FirstLsn}");
        var resumed = new List<long>();
        await foreach (var record in reader.ReadFromCursorAsync("replicator"))
        {
            resumed.Add(record.Lsn);
        }

        Assert.Equal(Enumerable.Range(51, 350).Select(i => (long)i), resumed);

        // The writer moves the same cursor; the reader sees that, and retention follows it.
        await wal.CommitCursorAsync("replicator", 380);
        Assert.Equal(380, reader.GetCursor("replicator"));
        await wal.TruncateBeforeAsync(390);
        Assert.True(wal.FirstLsn > 51, $"retention kept a cursor's old position: FirstLsn {wal.FirstLsn}");
    }

    [Fact]
    public async Task ReaderCommit_BeyondTheWrittenLsnOrWithABadName_IsRefused()
    {
        using var dir = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path });
        await wal.AppendAsync(Payloads.Make(0, 0, 10));
        using var reader = WalReader.Open(dir.Path);

        var beyond = Assert.Throws<ArgumentOutOfRangeException>(() => { _ = reader.CommitCursorAsync("job", 2).AsTask(); });
        Assert.Contains("written LSN (1)", beyond.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => { _ = reader.CommitCursorAsync("a/b", 1).AsTask(); });
        Assert.Empty(wal.Cursors);
        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => { _ = reader.CommitCursorAsync("job", 1).AsTask(); });
    }

    [Fact]
    public async Task CursorBeyondTheRecoveredEnd_IsLoweredDurably_SoASecondCrashCannotSkipTheNewRecords()
    {
        var storage = new SimulatedStorage("sim://cursor-lowered");
        int crashAt;
        await using (var wal = await Wal.OpenAsync(WrittenOptions(storage)))
        {
            for (var i = 0; i < 100; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 50));
            }

            await wal.FlushAsync();
            for (var i = 100; i < 150; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 50));
            }

            // A consumer of written (not yet durable) records commits past the durable end.
            await wal.CommitCursorAsync("eager", 140);
            crashAt = storage.OperationCount;
        }

        // Power loss right after the commit: the unsynced records 101..150 are gone, the cursor file
        // (synced) is not.
        var lost = storage.CrashImage(crashAt, CrashMode.DropUnsynced, 0);
        await using (var wal = await Wal.OpenAsync(WrittenOptions(lost)))
        {
            Assert.Equal(100, wal.WrittenLsn);
            Assert.Equal(100, wal.GetCursor("eager"));
            for (var i = 0; i < 60; i++)
            {
                await wal.AppendAsync(Payloads.Make(1, i, 50));
            }

            await wal.FlushAsync();
        }

        // Reopened again before the consumer committed: LSNs 101..160 are new records it has not seen.
        await using (var wal = await Wal.OpenAsync(WrittenOptions(lost)))
        {
            Assert.Equal(160, wal.WrittenLsn);
            Assert.Equal(100, wal.GetCursor("eager"));
        }
    }

    // Written durability with no timed flush in the test's time: only FlushAsync and closing sync.
    private static WalOptions WrittenOptions(SimulatedStorage storage)
    {
        var options = SimulatedWorkload.OptionsFor(storage, Durability.Written);
        options.FlushInterval = TimeSpan.FromMinutes(10);
        return options;
    }
}
