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
    private protected override IWalReader Reader(Wal wal, string directory, List<IDisposable> owned) => wal;
}

public sealed class WalReaderReadContractTests : ReadContractTests
{
    private protected override IWalReader Reader(Wal wal, string directory, List<IDisposable> owned)
    {
        var reader = WalReader.Open(directory);
        owned.Add(reader);
        return reader;
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
