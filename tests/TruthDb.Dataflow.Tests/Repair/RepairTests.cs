using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Repair;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;
using TruthDb.Dataflow.Validation;

namespace TruthDb.Dataflow.Tests.Repair;

/// <summary>
/// <see cref="LogRepair"/> on every kind of damage the suite builds: the prefix before the damage stays
/// byte-exact, the quarantine holds exactly the removed bytes, the log opens again; and a power loss
/// at every step of a repair leaves the old log or (once its intent is durable) the repaired one.
/// </summary>
public sealed class RepairTests
{
    public enum Damage
    {
        LastRecordOfCleanLog,
        ZerosWhereTheNoteProvesARecord,
        LastSegmentFrameBeforeDurableFrames,
        GarbageAfterTheLastRecord,
        StaleBytesAfterZeros,
        SealedSegmentFrame,
        FrameOfThisLogAtTheWrongPlace,
        SealedSegmentTrailer,
        SecondSegmentHeader,
        SegmentOfAnotherLog,
        MissingMiddleSegment,
        SegmentFileCutShort,
    }

    public static TheoryData<Damage> AllDamage() => new(Enum.GetValues<Damage>());

    [Theory]
    [MemberData(nameof(AllDamage))]
    public async Task Repair_EveryDamageCase_KeepsTheExactPrefixAndQuarantinesExactlyTheRemovedBytes(Damage damage)
    {
        var (image, reference) = await DamagedLogAsync(damage, seed: 40 + (int)damage);
        var before = Snapshot(image);
        Assert.False(LogInspector.VerifyStorage(image).IsClean);

        var plan = LogRepair.Repair(image);

        Assert.True(plan.IsNeeded, damage.ToString());
        AssertRepaired(before, Snapshot(image), plan, damage.ToString());
        Assert.True(LogInspector.VerifyStorage(image).IsClean, $"{damage}: verify after the repair: {string.Join("; ", LogInspector.VerifyStorage(image).Findings)}");
        var records = await LogChecks.RecoverAsync(image);
        AssertPrefix(reference, records, plan.KeptLastLsn, damage.ToString());
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(image));
        Assert.Equal(plan.KeptLastLsn + 1, await wal.AppendAsync(Payloads.Make(9, 9, 50)));
    }

    [Theory]
    [InlineData(Damage.LastRecordOfCleanLog)]
    [InlineData(Damage.SealedSegmentFrame)]
    [InlineData(Damage.SecondSegmentHeader)]
    [InlineData(Damage.GarbageAfterTheLastRecord)]
    public async Task Repair_PowerLossAtEveryStep_LeavesTheOldLogOrCompletesTheRepair(Damage damage)
    {
        var (image, reference) = await DamagedLogAsync(damage, seed: 60 + (int)damage);
        var before = Snapshot(image);
        var start = image.OperationCount;
        var plan = LogRepair.Repair(image);
        var repaired = Snapshot(image);
        var end = image.OperationCount;
        Assert.True(end - start >= 10, $"{damage}: the repair took only {end - start} operations");

        foreach (var mode in new[] { CrashMode.DropUnsynced, CrashMode.KeepUnsynced, CrashMode.TearUnsynced })
        {
            for (var point = start; point <= end; point++)
            {
                var context = $"{damage}, {mode}, crash after operation {point - start} of {end - start}";
                var crashed = image.CrashImage(point, mode, point);
                var decided = crashed.Exists(IntentName(plan)) || crashed.Exists(plan.RecordFile);
                if (!decided)
                {
                    // The old log, untouched.
                    AssertSame(Logged(before), Logged(Snapshot(crashed)), context);
                }
                else if (crashed.Exists(IntentName(plan)))
                {
                    // verify (read-only) says a repair is pending.
                    Assert.True(LogInspector.VerifyStorage(crashed).PendingRepair == IntentName(plan), context);
                }

                // Completing: the next open when the repair was decided (half of the points), else the next repair.
                if (decided && point % 2 == 0)
                {
                    var records = await LogChecks.RecoverAsync(crashed);
                    AssertPrefix(reference, records, plan.KeptLastLsn, context);
                }
                else
                {
                    // (Nothing left to do when the crash came after the repair's last step.)
                    var pending = crashed.Exists(IntentName(plan));
                    var again = LogRepair.Repair(crashed);
                    Assert.True(again.IsInterrupted == pending, $"{context}: IsInterrupted is {again.IsInterrupted}");
                    Assert.True(again.IsNeeded ? again.KeptLastLsn == plan.KeptLastLsn : crashed.Exists(plan.RecordFile), $"{context}: the repair after the crash kept LSNs up to {again.KeptLastLsn}");
                }

                AssertSame(Logged(repaired), Logged(Snapshot(crashed)), context);
            }
        }
    }

    [Fact]
    public async Task Repair_WhileAWriterHasTheLogOpen_IsRefusedAndChangesNothing()
    {
        var (image, _) = await DamagedLogAsync(Damage.GarbageAfterTheLastRecord, seed: 80);
        var before = Snapshot(image);
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(image));
        var during = Snapshot(image);

        var error = Assert.Throws<IOException>(() => LogRepair.Repair(image));

        Assert.Contains("already open by another writer", error.Message, StringComparison.Ordinal);
        AssertSame(Logged(during), Logged(Snapshot(image)), "refused repair");
        Assert.NotEmpty(before);
    }

    [Fact]
    public async Task Repair_CleanLog_DoesNothing()
    {
        var workload = await SimulatedWorkload.RunAsync(seed: 81, Durability.Sync, producers: 2, records: 60);
        var image = workload.Storage.ProcessCrashImage();
        var start = image.OperationCount;

        var plan = LogRepair.Repair(image);

        Assert.False(plan.IsNeeded);
        Assert.Equal(start, image.OperationCount);
    }

    [Fact]
    public async Task Repair_FirstSegmentHeaderDamaged_IsRefusedAndChangesNothing()
    {
        var workload = await SimulatedWorkload.RunAsync(seed: 82, Durability.Sync, producers: 2, records: 150);
        var image = workload.Storage.ProcessCrashImage();
        image.FlipBit(SegmentNames.ForSegment(1), 3, 1);
        var start = image.OperationCount;

        var error = Assert.Throws<IOException>(() => LogRepair.Repair(image));

        Assert.Contains("no part of the log can be kept", error.Message, StringComparison.Ordinal);
        Assert.Equal(start, image.OperationCount);
    }

    private static async Task<(SimulatedStorage Image, List<(long Lsn, byte[] Payload)> Reference)> DamagedLogAsync(Damage damage, int seed)
    {
        var workload = await SimulatedWorkload.RunAsync(seed, Durability.Sync, producers: 3, records: 150, maxPayload: 2500);
        var reference = await LogChecks.RecoverAsync(workload.Storage.ProcessCrashImage());
        var image = workload.Storage.ProcessCrashImage();
        var segments = image.ListFiles().Where(n => SegmentNames.TryParseSegment(n, out _)).Order(StringComparer.Ordinal).ToList();
        Assert.True(segments.Count >= 3, $"the workload should fill at least 3 segments, not {segments.Count}");
        var last = segments[^1];
        var lastEnd = RecordsEnd(image, last);
        var size = SimulatedWorkload.SegmentSize;
        switch (damage)
        {
            case Damage.LastRecordOfCleanLog:
                image.FlipBit(last, lastEnd - 8, 3);
                break;
            case Damage.ZerosWhereTheNoteProvesARecord:
                Write(image, last, lastEnd - 8, new byte[8]);
                break;
            case Damage.LastSegmentFrameBeforeDurableFrames:
                image.FlipBit(last, SegmentLayout.RecordsStart + 30, 5);
                break;
            case Damage.GarbageAfterTheLastRecord:
                Write(image, last, lastEnd + 64, "garbage of a torn write"u8.ToArray());
                break;
            case Damage.StaleBytesAfterZeros:
                Write(image, last, lastEnd + 4096, "stale bytes of a page that was never synced"u8.ToArray());
                break;
            case Damage.FrameOfThisLogAtTheWrongPlace:
                var frames = FrameOffsets(image, segments[0]);
                Write(image, segments[0], frames[5], image.ReadAllCurrent(segments[0]).AsSpan((int)frames[1], (int)(frames[2] - frames[1])).ToArray());
                break;
            case Damage.SegmentFileCutShort:
                var whole = image.ReadAllCurrent(segments[1]);
                image.Delete(segments[1]);
                using (var file = image.Create(segments[1]))
                {
                    file.Write(0, whole.AsSpan(0, whole.Length / 2));
                    file.DataSync();
                }

                break;
            case Damage.SealedSegmentFrame:
                image.FlipBit(segments[0], (SegmentLayout.RecordsStart + RecordsEnd(image, segments[0])) / 2, 6);
                break;
            case Damage.SealedSegmentTrailer:
                image.FlipBit(segments[0], size - 10, 0);
                break;
            case Damage.SecondSegmentHeader:
                image.FlipBit(segments[1], 2, 4);
                break;
            case Damage.SegmentOfAnotherLog:
                var other = await SimulatedWorkload.RunAsync(seed + 500, Durability.Sync, producers: 1, records: 150, maxPayload: 2500);
                var foreign = other.Storage.ReadAllCurrent(SegmentNames.ForSegment(1));
                image.Delete(segments[1]);
                using (var file = image.Create(segments[1]))
                {
                    file.Write(0, foreign);
                    file.DataSync();
                }

                break;
            case Damage.MissingMiddleSegment:
                image.Delete(segments[1]);
                break;
        }

        // The damage is on disk: a power loss during the repair cannot undo it.
        image.SyncDirectory();
        return (image, reference);
    }

    private static long RecordsEnd(SimulatedStorage storage, string segment)
    {
        using var file = storage.Open(segment, writable: false);
        using var reader = new StoredFrameReader(file, LogIdOf(storage, segment).Seed, SegmentLayout.RecordsStart, SegmentLayout.RecordsEnd(file.Length), FirstLsn(segment));
        while (reader.Next() == FrameStatus.Success)
        {
        }

        return reader.Offset;
    }

    // The offsets of the valid frames of a segment, and the end of the last one.
    private static List<long> FrameOffsets(SimulatedStorage storage, string segment)
    {
        using var file = storage.Open(segment, writable: false);
        using var reader = new StoredFrameReader(file, LogIdOf(storage, segment).Seed, SegmentLayout.RecordsStart, SegmentLayout.RecordsEnd(file.Length), FirstLsn(segment));
        var offsets = new List<long> { reader.Offset };
        while (reader.Next() == FrameStatus.Success)
        {
            offsets.Add(reader.Offset);
        }

        return offsets;
    }

    private static LogId LogIdOf(SimulatedStorage storage, string segment)
    {
        Assert.True(SegmentHeader.TryRead(storage.ReadAllCurrent(segment), out var header, out var problem), problem);
        return header.LogId;
    }

    private static long FirstLsn(string segment) => SegmentNames.TryParseSegment(segment, out var first) ? first : 0;

    private static void Write(SimulatedStorage storage, string name, long offset, byte[] bytes)
    {
        using var file = storage.Open(name, writable: true);
        file.Write(offset, bytes);
        file.DataSync();
    }

    private static Dictionary<string, byte[]> Snapshot(SimulatedStorage storage) =>
        storage.ListFiles().ToDictionary(n => n, storage.ReadAllCurrent, StringComparer.Ordinal);

    // The files that make up the log and the repair: segments, quarantine files, the repair's record.
    private static Dictionary<string, byte[]> Logged(Dictionary<string, byte[]> files) =>
        files.Where(f => SegmentNames.TryParseSegment(f.Key, out _) || f.Key.EndsWith(".quarantine", StringComparison.Ordinal) || f.Key.EndsWith(".done", StringComparison.Ordinal))
            .ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);

    private static string IntentName(RepairPlan plan) => plan.RecordFile.Replace(".done", ".intent", StringComparison.Ordinal);

    private static void AssertSame(Dictionary<string, byte[]> expected, Dictionary<string, byte[]> actual, string context)
    {
        Assert.True(expected.Keys.Order(StringComparer.Ordinal).SequenceEqual(actual.Keys.Order(StringComparer.Ordinal)),
            $"{context}: files {string.Join(", ", actual.Keys.Order(StringComparer.Ordinal))}, expected {string.Join(", ", expected.Keys.Order(StringComparer.Ordinal))}");
        foreach (var (name, bytes) in expected)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"{context}: '{name}' differs");
        }
    }

    private static void AssertRepaired(Dictionary<string, byte[]> before, Dictionary<string, byte[]> after, RepairPlan plan, string context)
    {
        foreach (var (name, bytes) in before.Where(f => SegmentNames.TryParseSegment(f.Key, out _)))
        {
            var quarantine = after.Keys.Where(n => n.StartsWith($"repair-{plan.Number:D4}.{name}", StringComparison.Ordinal)).ToList();
            if (plan.RemovedSegments.Contains(name))
            {
                // Moved whole: gone from the log, byte-exact in quarantine.
                Assert.False(after.ContainsKey(name), $"{context}: {name} should be gone");
                Assert.True(bytes.AsSpan().SequenceEqual(after[Assert.Single(quarantine)]), $"{context}: quarantine of {name} differs");
            }
            else if (name == plan.Segment)
            {
                // Cut: the prefix unchanged, zeros from the cut, the removed bytes in quarantine, zeros after them.
                var kept = after[name];
                var offset = (int)plan.Offset;
                Assert.True(bytes.AsSpan(0, offset).SequenceEqual(kept.AsSpan(0, offset)), $"{context}: the prefix of {name} changed");
                Assert.False(kept.AsSpan(offset).ContainsAnyExcept((byte)0), $"{context}: {name} is not zero after the cut");
                var removed = quarantine.Count == 0 ? [] : after[Assert.Single(quarantine)];
                Assert.True(bytes.AsSpan(offset, removed.Length).SequenceEqual(removed), $"{context}: the quarantine of {name} differs from the removed bytes");
                Assert.False(bytes.AsSpan(offset + removed.Length).ContainsAnyExcept((byte)0), $"{context}: non-zero bytes of {name} after the quarantined ones");
            }
            else
            {
                Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{context}: {name}, before the cut, changed");
                Assert.Empty(quarantine);
            }
        }

        Assert.True(after.ContainsKey(plan.RecordFile), $"{context}: no record of the repair");
        Assert.Equal(plan.QuarantineFiles.Order(StringComparer.Ordinal), after.Keys.Where(n => n.EndsWith(".quarantine", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(plan.QuarantineBytes, plan.QuarantineFiles.Sum(n => (long)after[n].Length));
    }

    private static void AssertPrefix(List<(long Lsn, byte[] Payload)> reference, List<(long Lsn, byte[] Payload)> records, long kept, string context)
    {
        Assert.True(records.Count == kept, $"{context}: {records.Count} records after the repair, expected {kept}");
        Assert.True(kept < reference.Count || (kept == reference.Count && kept > 0), $"{context}: kept {kept} of {reference.Count}");
        for (var i = 0; i < records.Count; i++)
        {
            Assert.True(records[i].Lsn == reference[i].Lsn && records[i].Payload.AsSpan().SequenceEqual(reference[i].Payload), $"{context}: LSN {i + 1} differs");
        }
    }
}
