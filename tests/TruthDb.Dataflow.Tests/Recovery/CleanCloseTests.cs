using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Recovery;

public sealed class CleanCloseTests
{
    [Fact]
    public async Task CleanClose_LeavesANoteThatTheNextOpenConsumesBeforeWriting()
    {
        var storage = new SimulatedStorage("sim://clean");
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            await wal.AppendAsync(Payloads.Make(0, 0, 100));
        }

        Assert.True(storage.Exists(CleanClose.FileName));
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            Assert.False(storage.Exists(CleanClose.FileName), "the note must be gone before the log is written again");
            Assert.Equal(1, wal.DurableLsn);
            await wal.AppendAsync(Payloads.Make(0, 1, 100));
        }
    }

    [Fact]
    public async Task StaleNote_ThatDoesNotMatchTheTail_IsIgnoredAndTheTailScanned()
    {
        var storage = new SimulatedStorage("sim://stale-note");
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            for (var i = 0; i < 5; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 100));
            }
        }

        // A note claiming fewer records than there are (as if left behind by an older close).
        Assert.True(SegmentHeader.TryRead(storage.ReadAllCurrent(SegmentNames.ForSegment(1)), out var header, out _));
        TruthDb.Dataflow.Storage.AtomicFile.Write(storage, CleanClose.FileName, CleanClose.Encode(header.LogId, 1, 2, SegmentLayout.RecordsStart + 2 * FrameCodec.FrameLength(100)));
        var records = await LogChecks.RecoverAsync(storage);
        Assert.Equal(5, records.Count);
    }
}
