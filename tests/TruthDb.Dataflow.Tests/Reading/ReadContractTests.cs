using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Reading;

/// <summary>
/// The read contract (<see cref="IWalReader"/>) as a consumer sees it, once per implementation: the
/// writer's <see cref="Wal"/> and a <see cref="WalReader"/> of the same directory.
/// </summary>
public abstract class ReadContractTests
{
    private const int Records = 40;

    /// <summary>The contract over <paramref name="wal"/>'s log (open, holding <see cref="Records"/> durable records).</summary>
    private protected abstract IWalReader Reader(Wal wal, string directory, List<IDisposable> owned);

    /// <summary>What the implementation says of the last segment's seal when it is not sealed: false, or null when it cannot know.</summary>
    private protected abstract bool? UnsealedLastSegment { get; }

    [Fact]
    public async Task ReadAsync_FromZero_ReadsEveryDurableRecordInOrder()
    {
        await WithLogAsync(async log =>
        {
            Assert.Equal(Records, log.DurableLsn);
            Assert.True(log.WrittenLsn >= log.DurableLsn);
            var lsns = new List<long>();
            await foreach (var record in log.ReadAsync(0, ct: Timeouts.Token()))
            {
                Assert.True(Payloads.IsIntact(record.Payload.Span, out _, out var sequence) && sequence == record.Lsn, $"LSN {record.Lsn}");
                lsns.Add(record.Lsn);
            }

            Assert.Equal(Enumerable.Range(1, Records).Select(i => (long)i), lsns);
        });
    }

    [Fact]
    public async Task ReadFromCursorAsync_AfterACommit_StartsJustAfterIt()
    {
        await WithLogAsync(async log =>
        {
            Assert.Equal(0, log.GetCursor("contract"));
            await log.CommitCursorAsync("contract", 25, Timeouts.Token());

            Assert.Equal(25, log.GetCursor("contract"));
            var first = await FirstAsync(log.ReadFromCursorAsync("contract", ct: Timeouts.Token()));
            Assert.Equal(26, first);
        });
    }

    [Fact]
    public async Task Arguments_OutOfRange_AreRefusedAndCommitNothing()
    {
        await WithLogAsync(async log =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => log.ReadAsync(-1));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await log.CommitCursorAsync("contract", log.WrittenLsn + 1));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await log.CommitCursorAsync("contract", -1));
            Assert.Throws<ArgumentException>(() => log.GetCursor("no spaces"));
            Assert.Throws<ArgumentException>(() => log.ReadFromCursorAsync("no/slashes"));
            Assert.Equal(0, log.GetCursor("contract"));
        });
    }

    [Fact]
    public async Task FirstLsn_AfterRetentionDropsSegments_IsTheWritersFirstLsn()
    {
        await WithLogAsync(async (log, wal) =>
        {
            Assert.Equal(1, log.FirstLsn);
            for (var i = Records + 1; i <= Records * 4; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 900));
            }

            await wal.TruncateBeforeAsync(wal.WrittenLsn, Timeouts.Token());

            Assert.True(wal.FirstLsn > 1, $"retention dropped no segment (FirstLsn {wal.FirstLsn})");
            Assert.Equal(wal.FirstLsn, log.FirstLsn);
            Assert.Equal(wal.FirstLsn, await FirstAsync(log.ReadAsync(0, ct: Timeouts.Token())));
        });
    }

    [Fact]
    public async Task GetSegments_AfterAppendsThatRoll_MatchWhatTheFilesHold()
    {
        await WithLogAsync(async (log, wal) =>
        {
            for (var i = Records + 1; i <= Records * 4; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 900));
            }

            var segments = log.GetSegments();
            var files = LogInspector.GetStats(wal.Directory).Segments;

            Assert.True(segments.Count >= 3, $"{segments.Count} segments");
            Assert.Equal(
                files.Select(f => (f.Name, f.FirstLsn, f.LastLsn, f.Records, f.SegmentSize, f.CreatedAt, (bool?)f.IsSealed)).SkipLast(1),
                segments.Select(s => (s.Name, s.FirstLsn, s.LastLsn, s.Records, s.SegmentSize, s.CreatedAt, s.IsSealed)).SkipLast(1));
            Assert.Equal((files[^1].Name, files[^1].FirstLsn, files[^1].LastLsn, files[^1].CreatedAt), (segments[^1].Name, segments[^1].FirstLsn, segments[^1].LastLsn, segments[^1].CreatedAt));
            Assert.False(files[^1].IsSealed);
            Assert.Equal(UnsealedLastSegment, segments[^1].IsSealed);
            Assert.Equal(log.WrittenLsn, segments[^1].LastLsn);
            Assert.Equal(log.FirstLsn, segments[0].FirstLsn);
        });
    }

    [Fact]
    public async Task GetSegments_AfterRetention_StartsAtTheFirstLsn()
    {
        await WithLogAsync(async (log, wal) =>
        {
            for (var i = Records + 1; i <= Records * 4; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 900));
            }

            await wal.TruncateBeforeAsync(wal.WrittenLsn, Timeouts.Token());

            var segments = log.GetSegments();
            Assert.Equal(wal.FirstLsn, segments[0].FirstLsn);
            Assert.Equal(wal.GetSegments().Select(s => s.Name), segments.Select(s => s.Name));
            Assert.Equal(LogInspector.GetStats(wal.Directory).Segments.Select(s => s.Name), segments.Select(s => s.Name));
        });
    }

    [Fact]
    public async Task Cursors_AfterCommitsOnBothSides_ListsEachInNameOrder()
    {
        await WithLogAsync(async (log, wal) =>
        {
            Assert.Empty(log.Cursors);
            await log.CommitCursorAsync("contract", 25, Timeouts.Token());
            await wal.CommitCursorAsync("by-writer", 10, Timeouts.Token());

            Assert.Equal(new Dictionary<string, long> { ["by-writer"] = 10, ["contract"] = 25 }, log.Cursors);
            Assert.Equal(["by-writer", "contract"], log.Cursors.Keys);
        });
    }

    [Fact]
    public async Task Cursors_ACursorFileDamaged_ThrowsNamingTheFile()
    {
        await WithLogAsync(async (log, wal) =>
        {
            await wal.CommitCursorAsync("intact", 10, Timeouts.Token());
            await wal.CommitCursorAsync("damaged", 20, Timeouts.Token());
            var file = CursorFile.FileName("damaged");
            File.WriteAllBytes(Path.Combine(wal.Directory, file), [1, 2, 3]);

            var listing = Assert.Throws<WalCorruptedException>(() => log.Cursors);
            Assert.Contains($"'{file}'", listing.Message, StringComparison.Ordinal);
            Assert.Equal(listing.Message, Assert.Throws<WalCorruptedException>(() => log.GetCursor("damaged")).Message);
            Assert.Equal(10, log.GetCursor("intact"));
        });
    }

    private static async Task<long> FirstAsync(IAsyncEnumerable<WalRecord> records)
    {
        await foreach (var record in records)
        {
            return record.Lsn;
        }

        return 0;
    }

    private Task WithLogAsync(Func<IWalReader, Task> test) => WithLogAsync((log, _) => test(log));

    private async Task WithLogAsync(Func<IWalReader, Wal, Task> test)
    {
        using var dir = new TestDirectory();
        var owned = new List<IDisposable>();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });
        for (var i = 1; i <= Records; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 900));
        }

        try
        {
            await test(Reader(wal, dir.Path, owned), wal);
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }
}

public sealed class WalReadContractTests : ReadContractTests
{
    private protected override bool? UnsealedLastSegment => false;

    private protected override IWalReader Reader(Wal wal, string directory, List<IDisposable> owned) => wal;
}

public sealed class WalReaderReadContractTests : ReadContractTests
{
    // A WalReader does not read the last segment's trailer.
    private protected override bool? UnsealedLastSegment => null;

    private protected override IWalReader Reader(Wal wal, string directory, List<IDisposable> owned)
    {
        var reader = WalReader.Open(directory);
        owned.Add(reader);
        return reader;
    }

    [Fact]
    public async Task GetSegments_ASegmentHeaderDamaged_ThrowsNamingItInsteadOfEndingTheListBeforeIt()
    {
        using var dir = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });
        for (var i = 1; i <= 200; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 900));
        }

        var segments = wal.GetSegments();
        Assert.True(segments.Count >= 3, $"{segments.Count} segments");
        using (var file = File.OpenWrite(Path.Combine(dir.Path, segments[1].Name)))
        {
            file.Write("XXXX"u8);
        }

        using var reader = WalReader.Open(dir.Path);

        var error = Assert.Throws<WalCorruptedException>(reader.GetSegments);
        Assert.Equal(segments[1].Name, error.Segment);
        Assert.Contains(segments[1].Name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_SimulatedStorage_ReadsWhatTheFilesProve()
    {
        // The cross-process read path over the storage seam: a simulated directory has no mirror,
        // so the reader goes by the files, up to the last record a process crash kept.
        var workload = await SimulatedWorkload.RunAsync(seed: 31, Durability.Sync, producers: 2, records: 120);
        var image = workload.Storage.ProcessCrashImage();

        using var reader = WalReader.Open(image, TimeSpan.FromMilliseconds(20));
        Assert.False(reader.IsWriterOpen);
        var records = new List<(long Lsn, byte[] Payload)>();
        await foreach (var record in reader.ReadAsync(0, ct: Timeouts.Token()))
        {
            records.Add((record.Lsn, record.ToArray()));
        }

        Assert.Equal(reader.DurableLsn, records.Count);
        LogChecks.AssertValidPrefix(records, workload, workload.Acknowledged.Count, "simulated storage, read by a WalReader");
    }
}
