using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

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
        var last = trace.Last(e => e.Kind == OperationKind.Write && !e.Failed && e.Name.EndsWith(".wal", StringComparison.Ordinal) && e.Length != FrameCodec.TrailerLength);
        var data = last.Bytes!;
        var frameEnds = FrameEnds(data);
        Assert.True(frameEnds.Count >= 2, "the last batch should hold several records");
        var before = workload.PromisedAt(last.Index).Durable;
        var baseImage = workload.Storage.CrashImage(last.Index, CrashMode.KeepUnsynced, 0);
        var random = new Random(5);

        for (var cut = 0; cut <= data.Length; cut++)
        {
            var image = baseImage.CrashImage(baseImage.OperationCount, CrashMode.KeepUnsynced, 0);
            using (var file = image.Open(last.Name, writable: true))
            {
                file.Write(last.Offset, data.AsSpan(0, cut));
                var rest = new byte[data.Length - cut];
                if (fill == Fill.Garbage)
                {
                    random.NextBytes(rest);
                }

                if (fill != Fill.Nothing)
                {
                    file.Write(last.Offset + cut, rest);
                }

                file.DataSync();
            }

            // A frame is whole once its payload is: its zero padding is already there unless garbage overwrote it.
            var complete = frameEnds.Count(end => (fill == Fill.Garbage ? end.Padded : end.Unpadded) <= cut);
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
    public void FrameReader_GarbageLengthOfTensOfMegabytes_AllocatesNothingBig()
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
        using (var reader = new FrameReader(file, LogId.NewId().Seed, SegmentLayout.RecordsStart, SegmentLayout.RecordsEnd(Size), 1))
        {
            status = reader.Next();
        }

        var tail = TruthDb.Dataflow.Recovery.TailScan.Run(file, LogId.NewId().Seed, SegmentLayout.RecordsStart, SegmentLayout.RecordsEnd(Size), 1);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.Equal(FrameStatus.ChecksumMismatch, status);
        Assert.False(tail.ProvesCorruption);
        Assert.True(allocated < 4 * 1024 * 1024, $"decoding a garbage length allocated {allocated} bytes");
    }

    private static List<(int Unpadded, int Padded)> FrameEnds(byte[] batch)
    {
        var ends = new List<(int, int)>();
        for (var at = 0; at + FrameCodec.HeaderLength <= batch.Length;)
        {
            var length = BitConverter.ToUInt32(batch, at);
            ends.Add((at + FrameCodec.HeaderLength + (int)length, at + (int)FrameCodec.FrameLength(length)));
            at += (int)FrameCodec.FrameLength(length);
        }

        return ends;
    }
}
