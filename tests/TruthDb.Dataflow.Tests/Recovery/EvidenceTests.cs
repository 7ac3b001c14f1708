using System.Buffers.Binary;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Recovery;

/// <summary>
/// Persisted evidence of durability (the clean-close note, the watermark mirror) keeps recovery from
/// taking a damaged durable record for a torn tail: every byte of the last record is flipped in turn.
/// </summary>
public sealed class EvidenceTests
{
    private const int Records = 6;
    private const int PayloadLength = 100;

    [Fact]
    public async Task CleanlyClosedLog_EveryByteOfLastRecordFlipped_OpenRefusesNamingSegmentOffsetAndLsn()
    {
        var storage = await ClosedLogAsync("sim://evidence-clean");

        var name = SegmentNames.ForSegment(1);
        var frameLength = FrameCodec.FrameLength(PayloadLength);
        var lastOffset = SegmentLayout.RecordsStart + ((Records - 1) * frameLength);
        for (var position = lastOffset; position < lastOffset + frameLength; position++)
        {
            var image = storage.ProcessCrashImage();
            image.FlipBit(name, position, (int)(position % 8));
            var context = $"flip at byte {position - lastOffset} of the last frame";

            var error = await Assert.ThrowsAsync<WalCorruptedException>(() => LogChecks.RecoverAsync(image));
            Assert.True(error.Segment == name && error.Offset == lastOffset && error.Lsn == Records, $"{context}: {error.Message}");
            Assert.Contains("clean-close note", error.Message, StringComparison.Ordinal);
            Assert.Contains("truthdb repair", error.Message, StringComparison.Ordinal);

            // A refused open changes nothing: the note stays, and the next open refuses again.
            Assert.True(image.Exists(CleanClose.FileName), $"{context}: the refused open deleted the note");
            await Assert.ThrowsAsync<WalCorruptedException>(() => LogChecks.RecoverAsync(image));

            var report = LogInspector.VerifyStorage(image);
            var finding = report.Findings[0];
            Assert.True(finding.Condition == LogCondition.DurableRecordDamaged && !finding.Recoverable && finding.Offset == lastOffset && finding.Lsn == Records,
                $"{context}: {finding}");
            Assert.Equal(Records, report.ProvenDurableLsn);
            Assert.Contains("clean-close note", report.ProvenDurableBy, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task MirrorProvesDurableAfterCrash_EveryByteOfLastRecordFlipped_OpenRefusesAndVerifyNamesTheMirror()
    {
        using var source = new TestDirectory();
        using var work = new TestDirectory();
        await CrashAfterDurableAppendsAsync(source.Path);
        var name = SegmentNames.ForSegment(1);
        var frameLength = FrameCodec.FrameLength(PayloadLength);
        var lastOffset = SegmentLayout.RecordsStart + ((Records - 1) * frameLength);
        for (var position = lastOffset; position < lastOffset + frameLength; position++)
        {
            var dir = CopyOf(source.Path, work.Path, position);
            Flip(Path.Combine(dir, name), position);
            var context = $"flip at byte {position - lastOffset} of the last frame";

            var error = await Assert.ThrowsAsync<WalCorruptedException>(async () => await Wal.OpenAsync(new WalOptions { Directory = dir, SegmentSize = 64 * 1024 }));
            Assert.True(error.Segment == name && error.Offset == lastOffset && error.Lsn == Records, $"{context}: {error.Message}");
            Assert.Contains("watermark mirror", error.Message, StringComparison.Ordinal);

            var report = LogInspector.Verify(dir);
            Assert.True(report.Findings[0].Condition == LogCondition.DurableRecordDamaged && !report.IsRecoverable, $"{context}: {report.Findings[0]}");
            Assert.Equal(Records, report.ProvenDurableLsn);
            Assert.Contains("watermark mirror", report.ProvenDurableBy, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task MirrorBelowTheTornRecord_EveryByteOfLastRecordFlipped_OpenTruncatesTheTornTail()
    {
        // The crash came before the sync of the last record returned: the mirror says one less.
        using var source = new TestDirectory();
        using var work = new TestDirectory();
        await CrashAfterDurableAppendsAsync(source.Path);
        SetMirrorDurable(source.Path, Records - 1);
        var name = SegmentNames.ForSegment(1);
        var frameLength = FrameCodec.FrameLength(PayloadLength);
        var lastOffset = SegmentLayout.RecordsStart + ((Records - 1) * frameLength);
        for (var position = lastOffset; position < lastOffset + frameLength; position++)
        {
            var dir = CopyOf(source.Path, work.Path, position);
            Flip(Path.Combine(dir, name), position);

            var report = LogInspector.Verify(dir);
            Assert.True(report.IsRecoverable && report.Findings.Count == 1, $"flip at {position}: {report.Findings[0]}");
            Assert.Contains("the highest LSN proven durable is 5", report.Findings[0].Message, StringComparison.Ordinal);

            await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir, SegmentSize = 64 * 1024 });
            Assert.Equal(Records - 1, wal.DurableLsn);
        }
    }

    [Fact]
    public async Task NoteOfAnotherLog_IsNotEvidence_TornTailIsTruncated()
    {
        var storage = await ClosedLogAsync("sim://evidence-foreign-note");

        var frameLength = FrameCodec.FrameLength(PayloadLength);
        TruthDb.Dataflow.Storage.AtomicFile.Write(storage, CleanClose.FileName,
            CleanClose.Encode(LogId.NewId(), 1, Records, SegmentLayout.RecordsStart + (Records * frameLength)));
        storage.FlipBit(SegmentNames.ForSegment(1), SegmentLayout.RecordsStart + ((Records - 1) * frameLength) + 30, 2);

        var records = await LogChecks.RecoverAsync(storage);

        Assert.Equal(Records - 1, records.Count);
        // The foreign note was replaced by this log's own at the close.
        Assert.Equal(Records - 1, CleanClose.TryDecode(storage.ReadAllCurrent(CleanClose.FileName))!.Value.LastLsn);
    }

    [Fact]
    public async Task NoteProvesMoreThanTheSegmentHolds_ZerosAfterTheLastRecord_OpenRefuses()
    {
        var storage = await ClosedLogAsync("sim://evidence-missing");

        // The last record's bytes are gone (zeros), as if its pages were lost after the close.
        var frameLength = FrameCodec.FrameLength(PayloadLength);
        var lastOffset = SegmentLayout.RecordsStart + ((Records - 1) * frameLength);
        using (var file = storage.Open(SegmentNames.ForSegment(1), writable: true))
        {
            file.Write(lastOffset, new byte[frameLength]);
        }

        var error = await Assert.ThrowsAsync<WalCorruptedException>(() => LogChecks.RecoverAsync(storage));

        Assert.Equal(lastOffset, error.Offset);
        Assert.Equal(Records, error.Lsn);
        Assert.Contains("zeros where the frame of LSN 6 should be", error.Message, StringComparison.Ordinal);
    }

    // A writer appends with Sync durability and the process dies without closing: a copy of the files
    // taken while it is open holds what a process crash leaves (every write reached the OS).
    private static async Task CrashAfterDurableAppendsAsync(string target)
    {
        using var live = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = live.Path, SegmentSize = 64 * 1024 });
        for (var i = 0; i < Records; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, PayloadLength));
        }

        Assert.Equal(Records, wal.DurableLsn);
        foreach (var path in Directory.GetFiles(live.Path))
        {
            if (Path.GetFileName(path) != FileSystemStorage.LockFileName)
            {
                File.Copy(path, Path.Combine(target, Path.GetFileName(path)));
            }
        }

        Assert.False(File.Exists(Path.Combine(target, CleanClose.FileName)));
    }

    private static string CopyOf(string source, string root, long round)
    {
        var dir = Path.Combine(root, round.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        foreach (var path in Directory.GetFiles(source))
        {
            File.Copy(path, Path.Combine(dir, Path.GetFileName(path)));
        }

        return dir;
    }

    private static void Flip(string path, long position)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        var b = new byte[1];
        RandomAccess.Read(handle, b, position);
        b[0] ^= (byte)(1 << (int)(position % 8));
        RandomAccess.Write(handle, b, position);
    }

    private static void SetMirrorDurable(string dir, long durable)
    {
        using var handle = File.OpenHandle(Path.Combine(dir, WatermarkMirror.FileName), FileMode.Open, FileAccess.ReadWrite);
        var word = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(word, durable);
        RandomAccess.Write(handle, word, WatermarkMirror.DurableOffset);
    }

    // A log of Records records written into simulated storage and closed cleanly.
    private static async Task<SimulatedStorage> ClosedLogAsync(string name)
    {
        var storage = new SimulatedStorage(name);
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        for (var i = 0; i < Records; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, PayloadLength));
        }

        return storage;
    }
}
