using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Recovery;

public sealed class CorruptionTests
{
    [Fact]
    public async Task SealedSegment_BitFlippedAnywhereMeaningful_IsReportedWithSegmentAndOffset()
    {
        var workload = await SimulatedWorkload.RunAsync(seed: 21, Durability.Sync, producers: 3, records: 150);
        var sealedName = SegmentNames.ForSegment(1);
        var size = SimulatedWorkload.SegmentSize;
        var recordsEnd = TrailerRecordsEnd(workload.Storage, sealedName);
        var random = new Random(21);
        var positions = new List<long>();
        for (long i = 0; i < SegmentHeader.Length; i++)
        {
            positions.Add(i);
        }

        for (var i = size - FrameCodec.TrailerLength; i < size; i++)
        {
            positions.Add(i);
        }

        for (var i = 0; i < 1500; i++)
        {
            positions.Add(random.NextInt64(SegmentLayout.RecordsStart, recordsEnd));
        }

        foreach (var position in positions)
        {
            var image = workload.Storage.CrashImage(workload.Storage.OperationCount, CrashMode.DropUnsynced, 0);
            image.FlipBit(sealedName, position, random.Next(8));
            var error = await Assert.ThrowsAsync<WalCorruptedException>(() => LogChecks.RecoverAsync(image));
            Assert.True(error.Segment == sealedName, $"flip at {position}: reported segment {error.Segment}: {error.Message}");
            Assert.True(error.Offset >= 0 && error.Offset <= position, $"flip at {position}: reported offset {error.Offset}: {error.Message}");
        }
    }

    [Fact]
    public async Task SealedSegment_BitFlippedInUnusedSpace_ChangesNothing()
    {
        var workload = await SimulatedWorkload.RunAsync(seed: 22, Durability.Sync, producers: 2, records: 150);
        var sealedName = SegmentNames.ForSegment(1);
        var recordsEnd = TrailerRecordsEnd(workload.Storage, sealedName);
        var unusedEnd = SegmentLayout.RecordsEnd(SimulatedWorkload.SegmentSize);
        Assert.True(unusedEnd > recordsEnd, "the sealed segment should have unused space");
        var image = workload.Storage.CrashImage(workload.Storage.OperationCount, CrashMode.DropUnsynced, 0);
        image.FlipBit(sealedName, (recordsEnd + unusedEnd) / 2, 3);

        var records = await LogChecks.RecoverAsync(image);

        LogChecks.AssertValidPrefix(records, workload, workload.Acknowledged.Count, "flip in unused space");
    }

    [Fact]
    public async Task LastSegment_DamagedFrameWithDurableFramesAfterIt_RefusesToOpen()
    {
        var workload = await SimulatedWorkload.RunAsync(seed: 23, Durability.Sync, producers: 1, records: 40, maxPayload: 200);
        var name = SegmentNames.ForSegment(1);
        var image = workload.Storage.CrashImage(workload.Storage.OperationCount, CrashMode.DropUnsynced, 0);
        image.FlipBit(name, SegmentLayout.RecordsStart + FrameCodec.HeaderLength + 2, 0);

        var error = await Assert.ThrowsAsync<WalCorruptedException>(() => LogChecks.RecoverAsync(image));

        Assert.Equal(name, error.Segment);
        Assert.Equal(SegmentLayout.RecordsStart, error.Offset);
        Assert.Contains("durable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SegmentFromAnotherLog_RefusesToOpen()
    {
        var first = await SimulatedWorkload.RunAsync(seed: 24, Durability.Sync, producers: 1, records: 150);
        var second = await SimulatedWorkload.RunAsync(seed: 25, Durability.Sync, producers: 1, records: 150);
        var image = first.Storage.CrashImage(first.Storage.OperationCount, CrashMode.DropUnsynced, 0);
        var foreign = second.Storage.ReadAllCurrent(SegmentNames.ForSegment(1));
        var victim = image.ListFiles().Where(n => n.EndsWith(".wal", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Skip(1).First();
        image.Delete(victim);
        using (var file = image.Create(victim))
        {
            // Same first LSN is impossible across these two logs' second segments, so rename the foreign first segment.
            file.Write(0, foreign);
        }

        var error = await Assert.ThrowsAsync<WalCorruptedException>(() => LogChecks.RecoverAsync(image));
        Assert.Equal(victim, error.Segment);
    }

    private static long TrailerRecordsEnd(SimulatedStorage storage, string name)
    {
        var bytes = storage.ReadAllCurrent(name);
        return BitConverter.ToInt64(bytes, (int)SegmentLayout.RecordsEnd(bytes.Length) + 16);
    }
}
