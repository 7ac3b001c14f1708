using System.Text;
using System.Threading.Tasks.Dataflow;
using TruthDb.Dataflow.Etl;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Etl;

public sealed class PipelineTests
{
    [Fact]
    public async Task ParseTransformAppend_ThenConsumerStoppedMidway_ResumesFromItsCursorExactlyOnce()
    {
        var storage = new SimulatedStorage("sim://etl");
        var lines = Enumerable.Range(0, 2000).Select(i => $"{i},{i * 3}").ToArray();

        // Parse → transform → append, with backpressure all the way into the log.
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            var parse = new TransformBlock<string, (int Id, int Value)>(line =>
            {
                var parts = line.Split(',');
                return (int.Parse(parts[0]), int.Parse(parts[1]));
            }, new ExecutionDataflowBlockOptions { BoundedCapacity = 64 });
            var transform = new TransformBlock<(int Id, int Value), ReadOnlyMemory<byte>>(
                row => Encoding.UTF8.GetBytes($"{row.Id}:{row.Value * 2}"),
                new ExecutionDataflowBlockOptions { BoundedCapacity = 64 });
            var lsns = new List<long>();
            var append = new WalTargetBlock(wal, boundedCapacity: 128, acknowledged: lsns.Add);
            parse.LinkTo(transform, new DataflowLinkOptions { PropagateCompletion = true });
            transform.LinkTo(append, new DataflowLinkOptions { PropagateCompletion = true });
            foreach (var line in lines)
            {
                Assert.True(await parse.SendAsync(line));
            }

            parse.Complete();
            await append.Completion.WaitAsync(Timeouts.Unexpected);
            Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), lsns);
            Assert.True(wal.GetStatistics().Batches < 2000, "appends through the block should share group commits");
        }

        // A consumer processes records, committing its cursor every 50; it is stopped midway.
        var processed = new List<string>();
        await ConsumeAsync(storage, processed, stopAfter: 777);
        Assert.Equal(750, processed.Count);

        // Restarted, it resumes after its last commit: every record exactly once, in order.
        await ConsumeAsync(storage, processed, stopAfter: int.MaxValue);
        Assert.Equal(lines.Select(l => l.Split(',')).Select(p => $"{p[0]}:{int.Parse(p[1]) * 2}"), processed);
    }

    [Fact]
    public async Task TargetBlock_WhenTheLogFaults_FaultsAndStopsTakingMessages()
    {
        var storage = new SimulatedStorage("sim://etl-fault");
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        var append = new WalTargetBlock(wal, boundedCapacity: 8);
        Assert.True(await append.SendAsync(new byte[10]));
        storage.FailOperation(OperationKind.DataSync, 1, TruthDb.Dataflow.Storage.StorageErrors.IoErrno);
        for (var i = 0; i < 100 && await append.SendAsync(new byte[10]); i++)
        {
        }

        await Assert.ThrowsAsync<WalFaultedException>(() => append.Completion.WaitAsync(Timeouts.Unexpected));
        Assert.False(await append.SendAsync(new byte[10]));
    }

    [Fact]
    public async Task FromCursor_OnAWalReaderOfALogAnotherWriterWrites_CommitsTheWritersCursorAndFollows()
    {
        using var dir = new TestDirectory();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 });
        for (var i = 1; i <= 300; i++)
        {
            Assert.Equal(i, await wal.AppendAsync(Encoding.UTF8.GetBytes($"row {i}")));
        }

        using var reader = WalReader.Open(dir.Path);
        using var cts = new CancellationTokenSource(Timeouts.Unexpected);
        var source = WalSource.FromCursor(reader, "replica-job", new ReadOptions { Follow = true }, boundedCapacity: 8, ct: cts.Token);
        for (var lsn = 1; lsn <= 200; lsn++)
        {
            var entry = await source.ReceiveAsync(cts.Token);
            Assert.Equal((lsn, $"row {lsn}"), (entry.Lsn, Encoding.UTF8.GetString(entry.Payload)));
        }

        // Committed through the reader, seen by the writer (whose retention now keeps only what follows).
        await reader.CommitCursorAsync("replica-job", 200, cts.Token);
        Assert.Equal(200, wal.GetCursor("replica-job"));
        Assert.Equal(200, Assert.Contains("replica-job", wal.Cursors));

        // Following: records the writer appends afterwards arrive too.
        await wal.AppendAsync(Encoding.UTF8.GetBytes("row 301"));
        for (var lsn = 201; lsn <= 301; lsn++)
        {
            var entry = await source.ReceiveAsync(cts.Token);
            Assert.Equal((lsn, $"row {lsn}"), (entry.Lsn, Encoding.UTF8.GetString(entry.Payload)));
        }

        // A job restarted from the cursor resumes right after it.
        using var again = WalReader.Open(dir.Path);
        var resumed = WalSource.FromCursor(again, "replica-job", ct: cts.Token);
        Assert.Equal(201, (await resumed.ReceiveAsync(cts.Token)).Lsn);
        await cts.CancelAsync();
        await source.Completion.WaitAsync(Timeouts.Unexpected);
    }

    // Processes records from the cursor; commits after every 50; stops (cooperatively) after
    // `stopAfter` records, dropping the uncommitted tail of its work as a crash would.
    private static async Task ConsumeAsync(SimulatedStorage storage, List<string> processed, int stopAfter)
    {
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        var source = WalSource.FromCursor(wal, "consumer", boundedCapacity: 16, ct: Timeouts.Token());
        var pending = new List<string>();
        var seen = 0;
        while (await source.OutputAvailableAsync())
        {
            var entry = await source.ReceiveAsync();
            pending.Add(Encoding.UTF8.GetString(entry.Payload));
            if (++seen == stopAfter)
            {
                return;
            }

            if (pending.Count == 50)
            {
                processed.AddRange(pending);
                pending.Clear();
                await wal.CommitCursorAsync("consumer", entry.Lsn);
            }
        }

        processed.AddRange(pending);
        await source.Completion;
    }
}
