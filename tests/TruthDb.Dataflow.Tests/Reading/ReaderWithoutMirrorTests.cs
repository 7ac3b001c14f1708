using System.Buffers.Binary;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Reading;

/// <summary>
/// <see cref="WalReader"/> when no writer publishes its watermarks: no mirror, a shrunk, foreign or
/// replaced one, a closed writer. It reads what the files prove and never reads past a frame that
/// does not validate, failing where records after it exist but cannot be read.
/// </summary>
public sealed class ReaderWithoutMirrorTests
{
    private const int SegmentSize = 64 * 1024;

    [Fact]
    public async Task ReadAsync_PlainCopyOfTheSegmentFiles_ReadsEveryRecord()
    {
        using var dir = new TestDirectory();
        await FillAsync(dir.Path, 150, 1000);
        KeepOnlySegments(dir.Path);

        using var reader = WalReader.Open(dir.Path);
        Assert.False(reader.IsWriterOpen);
        Assert.Equal(150, reader.DurableLsn);
        Assert.Equal(150, reader.WrittenLsn);
        var records = await ReadAllAsync(reader, 0);
        Assert.Equal(Enumerable.Range(1, 150).Select(i => (long)i), records.Select(r => r.Lsn));
        Assert.All(records, r => Assert.True(Payloads.IsIntact(r.Payload, out _, out _)));
    }

    [Fact]
    public async Task Watermarks_MirrorShrunkForeignRemovedOrReplaced_FallBackToTheFilesWithoutCrashing()
    {
        using var dir = new TestDirectory();
        await FillAsync(dir.Path, 30, 100);
        var mirrorPath = Path.Combine(dir.Path, WatermarkMirror.FileName);
        var closed = File.ReadAllBytes(mirrorPath);

        // A writer that has the log open and published durable LSN 20: the reader goes by the mirror.
        File.WriteAllBytes(mirrorPath, Mirror(closed, written: 25, durable: 20, open: true));
        using var reader = WalReader.Open(dir.Path);
        Assert.True(reader.IsWriterOpen);
        Assert.Equal(20, reader.DurableLsn);
        Assert.Equal(25, reader.WrittenLsn);
        Assert.Equal(20, (await ReadAllAsync(reader, 0)).Count);

        // A following read waits at 20; shrinking the mirror under it (a mapped reader would die of
        // SIGBUS here) makes it read on from the files, up to what they hold.
        using var cts = new CancellationTokenSource(Timeouts.Unexpected);
        var follower = Task.Run(async () =>
        {
            var seen = new List<long>();
            await foreach (var record in reader.ReadAsync(1, new ReadOptions { Follow = true }, cts.Token))
            {
                seen.Add(record.Lsn);
                if (record.Lsn == 30)
                {
                    break;
                }
            }

            return seen;
        });
        using (var handle = File.OpenHandle(mirrorPath, FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(handle, 16);
        }

        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), await follower.WaitAsync(cts.Token));
        Assert.False(reader.IsWriterOpen);
        Assert.Equal(30, reader.DurableLsn);

        // Another log's mirror, or none at all: the files again.
        var foreign = Mirror(closed, written: 5, durable: 5, open: true);
        foreign[8] ^= 0xFF;
        File.WriteAllBytes(mirrorPath, foreign);
        Assert.False(reader.IsWriterOpen);
        Assert.Equal(30, reader.DurableLsn);
        File.Delete(mirrorPath);
        Assert.Equal(30, reader.DurableLsn);

        // A new mirror file (a writer opened the log again): the reader goes by it again.
        File.WriteAllBytes(mirrorPath + ".tmp", Mirror(closed, written: 22, durable: 22, open: true));
        File.Move(mirrorPath + ".tmp", mirrorPath);
        Assert.True(reader.IsWriterOpen);
        Assert.Equal(22, reader.DurableLsn);
    }

    [Fact]
    public async Task ReadAsync_TornTailWithoutWriter_ReadsThePrefixThenFailsNamingWhereItStopped()
    {
        using var dir = new TestDirectory();
        await FillAsync(dir.Path, 10, 100);
        File.Delete(Path.Combine(dir.Path, CleanClose.FileName));
        var last = LogInspector.Dump(dir.Path).Single(f => f.Lsn == 10);
        var end = last.Offset + last.FrameLength;
        WriteAt(dir.Path, last.Segment, end, "torn write"u8);

        using var reader = WalReader.Open(dir.Path);
        Assert.Equal(10, reader.DurableLsn);
        var seen = new List<long>();
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var record in reader.ReadAsync(0))
            {
                seen.Add(record.Lsn);
            }
        });
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), seen);
        Assert.Contains($"cannot be read past LSN 10: in segment '{last.Segment}', offset {end}", error.Message, StringComparison.Ordinal);

        // A follower does not wait there silently either.
        using var cts = new CancellationTokenSource(Timeouts.Unexpected);
        await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var record in reader.ReadAsync(0, new ReadOptions { Follow = true }, cts.Token))
            {
                Assert.True(record.Lsn <= 10);
            }
        });
    }

    [Fact]
    public async Task ReadAsync_LastRecordOfACleanlyClosedLogZeroed_FailsAsCorruption()
    {
        using var dir = new TestDirectory();
        await FillAsync(dir.Path, 10, 100);
        var last = LogInspector.Dump(dir.Path).Single(f => f.Lsn == 10);
        WriteAt(dir.Path, last.Segment, last.Offset, new byte[last.FrameLength]);

        // Only zeros follow LSN 9, but the clean-close note says the writer synced up to LSN 10.
        using var reader = WalReader.Open(dir.Path);
        var seen = new List<long>();
        var error = await Assert.ThrowsAsync<WalCorruptedException>(async () =>
        {
            await foreach (var record in reader.ReadAsync(0))
            {
                seen.Add(record.Lsn);
            }
        });
        Assert.Equal(9, seen.Count);
        Assert.Equal(last.Segment, error.Segment);
        Assert.Equal(last.Offset, error.Offset);
        Assert.Contains("LSN 10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_SegmentHeaderDamaged_FailsThereInsteadOfSkippingTheSegment()
    {
        using var dir = new TestDirectory();
        await FillAsync(dir.Path, 150, 1000);
        var segments = Directory.GetFiles(dir.Path, "*.wal").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.True(segments.Length >= 3);
        WriteAt(dir.Path, segments[1]!, 0, "XXXX"u8);
        var secondFirst = long.Parse(segments[1]![..20], System.Globalization.CultureInfo.InvariantCulture);

        using var reader = WalReader.Open(dir.Path);
        var seen = new List<long>();
        var error = await Assert.ThrowsAsync<WalCorruptedException>(async () =>
        {
            await foreach (var record in reader.ReadAsync(0))
            {
                seen.Add(record.Lsn);
            }
        });
        Assert.Equal(secondFirst - 1, seen.Count);
        Assert.Equal(segments[1], error.Segment);

        // The first segment's header: nothing can be read, and nothing is skipped.
        WriteAt(dir.Path, segments[0]!, 0, "XXXX"u8);
        using var second = WalReader.Open(dir.Path);
        var failure = await Assert.ThrowsAsync<WalCorruptedException>(async () =>
        {
            await foreach (var record in second.ReadAsync(0))
            {
                Assert.Fail($"read LSN {record.Lsn} past a damaged first segment");
            }
        });
        Assert.Equal(segments[0], failure.Segment);
    }

    [Fact]
    public async Task Open_ReaderOnAClosedLog_HoldsNoLockAWriterNeeds()
    {
        using var dir = new TestDirectory();
        await FillAsync(dir.Path, 5, 100);
        using var reader = WalReader.Open(dir.Path);
        Assert.Equal(5, (await ReadAllAsync(reader, 0)).Count);

        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = SegmentSize });
        await wal.AppendAsync(Payloads.Make(1, 1, 100));
        Assert.True(reader.IsWriterOpen);
        Assert.Equal(6, reader.DurableLsn);
    }

    private static async Task FillAsync(string directory, int count, int length)
    {
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = directory, SegmentSize = SegmentSize });
        for (var i = 0; i < count; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, length));
        }
    }

    private static void KeepOnlySegments(string directory)
    {
        foreach (var path in Directory.GetFiles(directory))
        {
            if (!path.EndsWith(".wal", StringComparison.Ordinal))
            {
                File.Delete(path);
            }
        }
    }

    private static byte[] Mirror(byte[] closed, long written, long durable, bool open)
    {
        var bytes = (byte[])closed.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(WatermarkMirror.WrittenOffset), written);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(WatermarkMirror.DurableOffset), durable);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(WatermarkMirror.OpenOffset), open ? 1 : 0);
        return bytes;
    }

    private static void WriteAt(string directory, string segment, long offset, ReadOnlySpan<byte> bytes)
    {
        using var file = File.OpenHandle(Path.Combine(directory, segment), FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.Write(file, bytes, offset);
    }

    private static async Task<List<(long Lsn, byte[] Payload)>> ReadAllAsync(WalReader reader, long from)
    {
        var records = new List<(long, byte[])>();
        await foreach (var record in reader.ReadAsync(from))
        {
            records.Add((record.Lsn, record.ToArray()));
        }

        return records;
    }
}
