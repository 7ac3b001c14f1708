using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Recovery;

/// <summary>
/// A failed fsync on a real kernel ("fsyncgate"). When the writeback of a file's dirty pages fails,
/// Linux reports the error to one fdatasync and marks the pages clean, keeping their contents in the
/// page cache; the next fdatasync returns 0. A log that faulted on such a flush and is reopened in the
/// same boot finds the lost records in the cache, valid, and its recovery's fdatasync succeeds: it must
/// still not call them durable unless the device holds them. The device here is an ext4 on a loop
/// device whose backing file is sparse on a full tmpfs (<see cref="LoopFileSystem"/>): writing back a
/// block of the segment that was never written fails, as a full thin-provisioned volume would. The
/// log runs with <see cref="Durability.Written"/>, whose segments are reserved with fallocate (their
/// blocks are holes of the backing file until first written; <see cref="Durability.Sync"/> zero-fills
/// segments, so this cannot fail its writes), and a flush interval of an hour, so that only the
/// explicit <see cref="Wal.FlushAsync"/> calls sync.
/// </summary>
public sealed class WritebackFailureTests
{
    private const long SpareSize = 64L * 1024 * 1024;
    private const long DeviceSize = 48L * 1024 * 1024;
    private const long SegmentSize = 1024 * 1024;
    private const int PageSize = 4096;

    // Frames of 256 bytes, 16 to a page.
    private const int PayloadLength = 232;

    // Four pages of frames, durable before the device fills up.
    private const int DurableRecords = 64;

    // Sixteen pages of frames after them, which the device never held.
    private const int UnsyncedRecords = 256;

    [Fact]
    public async Task Reopen_SameBootAfterAFailedFlush_EveryRecordItCallsDurableSurvivesDroppingThePageCache()
    {
        // The durable records end on a page boundary, so every page written after the fill is a hole of
        // the backing file from its first byte. A write into the loop device that starts in a page the
        // backing file holds and runs into holes is taken short by the full tmpfs, and the loop device
        // completes it without an error (seen on Linux 6.18): the rest is lost silently, and no fsync
        // fails, so the log would not even fault.
        Assert.Equal(0, (SegmentLayout.RecordsStart + DurableRecords * FrameCodec.FrameLength(PayloadLength)) % PageSize);

        using var fileSystem = LoopFileSystem.Mount(SpareSize, DeviceSize);
        var directory = Directory.CreateDirectory(Path.Combine(fileSystem.MountPoint, "log")).FullName;
        var appended = new List<byte[]>();

        // 1. Records made durable, then the device fills up, more records are written, and their flush fails.
        IOException flushError;
        await using (var wal = await Wal.OpenAsync(Options(directory)))
        {
            await AppendAsync(wal, appended, DurableRecords);
            Assert.Equal(DurableRecords, await wal.FlushAsync(Timeouts.Token()));

            fileSystem.FillSpare();
            await AppendAsync(wal, appended, UnsyncedRecords);
            var fault = await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.FlushAsync(Timeouts.Token()));

            // The kernel reports ENOSPC here: the loop device passes the tmpfs's "no space" on as such
            // (BLK_STS_NOSPC), and ext4 hands it to the fdatasync. EIO would be the same failure on
            // another device: either way the writeback of the pages failed.
            flushError = Assert.IsAssignableFrom<IOException>(fault.InnerException);
            Assert.True(flushError.HResult is StorageErrors.NoSpaceErrno or StorageErrors.IoErrno, $"the flush must fail with ENOSPC or EIO from the writeback: {flushError}");

            // The error names the segment as it is named now (it was synced first under its prepared name).
            Assert.Contains("00000000000000000001.wal", flushError.Message, StringComparison.Ordinal);
            Assert.Equal(DurableRecords, wal.DurableLsn);
        }

        // The page cache still holds every record the failed flush did not write back, valid (read here
        // without opening the log, so before any recovery): there is a loss for recovery to hide.
        var inCache = LogInspector.Dump(directory).Where(f => f.Check == FrameCheck.Valid).Select(f => f.Lsn).ToList();
        Assert.True(inCache.Count == appended.Count && inCache[^1] == appended.Count, $"after the failed flush the page cache holds {inCache.Count} valid frames, not the {appended.Count} appended");
        fileSystem.FreeSpare();

        // 2. Reopened in the same boot: recovery says how far the log is durable, and reads every record
        //    appended (from the cache, or from the device if recovery wrote them back).
        long claimed;
        await using (var wal = await Wal.OpenAsync(Options(directory)))
        {
            claimed = wal.DurableLsn;
            var cached = await wal.ReadAllAsync();
            Assert.True(cached.Count == appended.Count, $"after the failed flush the reopened log reads {cached.Count} records, not the {appended.Count} appended");
            for (var i = 0; i < cached.Count; i++)
            {
                Assert.True(cached[i].Lsn == i + 1 && cached[i].Payload.AsSpan().SequenceEqual(appended[i]), $"after the failed flush the reopened log reads LSN {cached[i].Lsn} as record {i + 1}, not what was appended");
            }
        }

        // 3. The page cache dropped, as by a power loss: what recovery declared durable must be on the device.
        fileSystem.DropCache();
        var (survivors, refusal) = await ReadWithoutCacheAsync(directory);
        for (var lsn = 1L; lsn <= claimed; lsn++)
        {
            var held = survivors.TryGetValue(lsn, out var payload);
            Assert.True(
                held && (payload is null || payload.AsSpan().SequenceEqual(appended[(int)lsn - 1])),
                $"LSN {lsn} is {(held ? "different" : "missing")} once the page cache is dropped, although the reopen in the same boot declared LSNs up to {claimed} durable; "
                + $"their flush had failed ({flushError.Message}) after LSN {DurableRecords} was durable, and the device holds {Contiguous(survivors)} record(s) from LSN 1."
                + (refusal is null ? string.Empty : $" Opening the log refuses: {refusal}"));
        }
    }

    private static WalOptions Options(string directory) => new()
    {
        Directory = directory,
        SegmentSize = SegmentSize,
        Durability = Durability.Written,
        FlushInterval = TimeSpan.FromHours(1),
    };

    private static async Task AppendAsync(Wal wal, List<byte[]> appended, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var payload = Payloads.Make(0, appended.Count, PayloadLength);
            Assert.Equal(appended.Count + 1, await wal.AppendAsync(payload, Timeouts.Token()));
            appended.Add(payload);
        }
    }

    // The records the log holds without its page cache, by LSN; and the message of recovery's refusal,
    // when it refuses (a clean-close note can vouch for records the device lost): then the frames that
    // still validate are read with the inspector (their payloads are checked by their checksums; null here).
    private static async Task<(Dictionary<long, byte[]?> Records, string? Refusal)> ReadWithoutCacheAsync(string directory)
    {
        try
        {
            await using var wal = await Wal.OpenAsync(Options(directory));
            var records = new Dictionary<long, byte[]?>();
            foreach (var (lsn, payload) in await wal.ReadAllAsync())
            {
                records[lsn] = payload;
            }

            return (records, null);
        }
        catch (WalCorruptedException ex)
        {
            var records = new Dictionary<long, byte[]?>();
            foreach (var frame in LogInspector.Dump(directory))
            {
                if (frame.Check == FrameCheck.Valid)
                {
                    records[frame.Lsn] = null;
                }
            }

            return (records, ex.Message);
        }
    }

    private static long Contiguous(Dictionary<long, byte[]?> records)
    {
        var lsn = 0L;
        while (records.ContainsKey(lsn + 1))
        {
            lsn++;
        }

        return lsn;
    }
}
