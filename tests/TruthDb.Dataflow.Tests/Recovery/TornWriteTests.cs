using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;
using TruthDb.Dataflow.Validation;

namespace TruthDb.Dataflow.Tests.Recovery;

public sealed class TornWriteTests
{
    public enum Fill
    {
        Nothing,
        Zeros,
        Garbage,
    }

    [Theory]
    [InlineData(Fill.Nothing)]
    [InlineData(Fill.Zeros)]
    [InlineData(Fill.Garbage)]
    public async Task LastWrite_CutAtEveryByteOffset_ReopensWithOnlyCompleteRecordsAndAppendsAgain(Fill fill)
    {
        var workload = await SimulatedWorkload.RunAsync(seed: 11, Durability.Sync, producers: 4, records: 120, maxPayload: 90);
        var trace = workload.Storage.Trace;
        // The batch to tear: the one with the most records among the last ones written (a crash
        // before a write leaves everything before it, so any batch can play the last one).
        var last = trace
            .Where(e => e.Kind == OperationKind.Write && !e.Failed && e.Offset >= SegmentLayout.RecordsStart
                && e.Name.EndsWith(".wal", StringComparison.Ordinal) && e.Length != FrameCodec.TrailerLength)
            .TakeLast(30)
            .MaxBy(e => FrameEnds(e.Bytes!).Count)!;
        var data = last.Bytes!;
        var frameEnds = FrameEnds(data);
        Assert.True(frameEnds.Count >= 2, "some batch should hold several records");
        var before = workload.PromisedAt(last.Index).Durable;
        var baseImage = workload.Storage.CrashImage(last.Index, CrashMode.KeepUnsynced, 0);
        var random = new Random(5);

        for (var cut = 0; cut <= data.Length; cut++)
        {
            var image = baseImage.CrashImage(baseImage.OperationCount, CrashMode.KeepUnsynced, 0);
            // What the region holds after the torn write: the cut prefix, then the fill (the prepared
            // segment held zeros there before, so "nothing" reads as zeros too).
            var torn = new byte[data.Length];
            data.AsSpan(0, cut).CopyTo(torn);
            if (fill == Fill.Garbage)
            {
                random.NextBytes(torn.AsSpan(cut));
            }

            using (var file = image.Open(last.Name, writable: true))
            {
                file.Write(last.Offset, fill == Fill.Nothing ? data.AsSpan(0, cut) : torn);
                file.DataSync();
            }

            // A frame survives when every byte of it (padding included) came out as written: the fill
            // can complete a frame whose last bytes are zeros.
            var complete = frameEnds.TakeWhile(end => torn.AsSpan(0, end).SequenceEqual(data.AsSpan(0, end))).Count();
            var records = await LogChecks.RecoverAsync(image);
            var context = $"{fill}, cut at byte {cut} of {data.Length}";
            Assert.True(before + complete == records.Count, $"{context}: expected {before + complete} records, recovered {records.Count}");
            LogChecks.AssertValidPrefix(records, workload, before + complete, context);

            await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(image));
            var lsn = await wal.AppendAsync(Payloads.Make(999, cut, 40));
            Assert.Equal(records.Count + 1, lsn);
            var tail = await wal.ReadAllAsync(lsn);
            Assert.Equal(Payloads.Make(999, cut, 40), Assert.Single(tail).Payload);
        }
    }

    [Fact]
    public void StoredFrameReader_GarbageLengthOfTensOfMegabytes_AllocatesNothingBig()
    {
        const long Size = 64L * 1024 * 1024;
        var storage = new SimulatedStorage("sim://garbage");
        using var file = storage.Create("00000000000000000001.wal");
        file.Allocate(Size);
        var header = new byte[FrameCodec.HeaderLength];
        BitConverter.TryWriteBytes(header, 40 * 1024 * 1024);
        BitConverter.TryWriteBytes(header.AsSpan(8), 1L);
        file.Write(SegmentLayout.RecordsStart, header);
        file.Write(SegmentLayout.RecordsStart + FrameCodec.HeaderLength, Enumerable.Repeat((byte)0xAB, 100_000).ToArray());

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        FrameStatus status;
        using (var reader = new StoredFrameReader(file, LogId.NewId().Seed, SegmentLayout.RecordsStart, SegmentLayout.RecordsEnd(Size), 1))
        {
            status = reader.Next();
        }

        var tail = TailScan.Run(file, LogId.NewId().Seed, SegmentLayout.RecordsStart, SegmentLayout.RecordsEnd(Size), 1);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.Equal(FrameStatus.ChecksumMismatch, status);
        Assert.False(tail.ProvesCorruption);
        Assert.True(allocated < 4 * 1024 * 1024, $"decoding a garbage length allocated {allocated} bytes");
    }

    private static List<int> FrameEnds(byte[] batch)
    {
        var ends = new List<int>();
        for (var at = 0; at + FrameCodec.HeaderLength <= batch.Length;)
        {
            at += (int)FrameCodec.FrameLength(BitConverter.ToUInt32(batch, at));
            ends.Add(at);
        }

        return ends;
    }
}
