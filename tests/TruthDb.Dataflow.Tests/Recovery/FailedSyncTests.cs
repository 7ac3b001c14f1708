using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;
using Xunit.Abstractions;

namespace TruthDb.Dataflow.Tests.Recovery;

/// <summary>
/// A sync that fails the way Linux fails one after a writeback error: the writes it should have made
/// durable stay readable in the page cache but count as clean, so no later sync writes them and they
/// never reach the disk (<see cref="SimulatedStorage.FailSyncLosingWrites"/>). The log faults; a
/// reopen in the same boot reads them back from the cache, and must make the disk hold them before it
/// declares them durable.
/// </summary>
public sealed class FailedSyncTests(ITestOutputHelper output)
{
    private const string FirstSegment = "00000000000000000001.wal";

    [Theory]
    [InlineData(Durability.Sync, 37)]
    [InlineData(Durability.Written, 37)]
    [InlineData(Durability.Sync, 41)]
    [InlineData(Durability.Written, 41)]
    public async Task LostWrites_AtEveryFailedSync_ReopenInTheSameBootDeclaresDurableOnlyWhatThenSurvivesPowerLoss(Durability durability, int seed)
    {
        var flushEvery = durability == Durability.Written ? 5 : 0;
        var clean = await SimulatedWorkload.RunAsync(seed, durability, producers: 4, records: 200, flushEvery: flushEvery);
        var total = clean.Storage.Trace.Count(e => e.Kind == OperationKind.DataSync);
        Assert.True(total >= 10, $"the workload did only {total} syncs");
        var random = new Random(seed);
        var (faulted, restored) = (0, 0);
        for (var k = 1; k <= total; k++)
        {
            var context = $"{durability}, seed {seed}: sync #{k} of {total} failed and lost its writes";
            SimulatedWorkload workload;
            try
            {
                workload = await SimulatedWorkload.RunAsync(seed, durability, producers: 4, records: 200, flushEvery: flushEvery,
                    arm: s => s.FailSyncLosingWrites(OperationKind.DataSync, k, StorageErrors.IoErrno));
            }
            catch (IOException ex) when (ex is not WalCorruptedException)
            {
                // The failure hit the creation of the log: opening failed loudly, nothing was acknowledged.
                Assert.Contains("Input/output error", ex.Message, StringComparison.Ordinal);
                continue;
            }

            faulted += workload.Failures.IsEmpty ? 0 : 1;
            var promised = workload.PromisedAt(int.MaxValue);

            // The same boot: the directory as the faulted process left it, page cache included.
            var sameBoot = workload.Storage.ProcessCrashImage();
            var logger = new TestLogger();
            var reopened = await LogChecks.RecoverAsync(sameBoot, durability, logger);
            LogChecks.AssertValidPrefix(reopened, workload, promised.Durable, context + ", reopened in the same boot");
            restored += logger.Events(7).Count;

            // What that reopen declared durable is on the disk: a power loss right after it keeps all of it.
            foreach (var mode in new[] { CrashMode.DropUnsynced, CrashMode.TearUnsynced })
            {
                var afterPowerLoss = await LogChecks.RecoverAsync(sameBoot.CrashImage(sameBoot.OperationCount, mode, k));
                LogChecks.AssertSame(reopened, afterPowerLoss, $"{context}, reopened, then power lost ({mode})");
            }

            // A power loss in the middle of that recovery loses nothing acknowledged as durable.
            var during = sameBoot.CrashImage(random.Next(sameBoot.OperationCount + 1), CrashMode.TearUnsynced, random.Next());
            LogChecks.AssertValidPrefix(await LogChecks.RecoverAsync(during, durability), workload, promised.Durable, context + ", power lost during the reopen");
        }

        output.WriteLine($"{durability}, seed {seed}: {total} syncs, {faulted} faulted the log, {restored} reopens wrote lost bytes again");
        // Under Written the syncs are timed by the flusher, so how many there are, and how many come
        // after the last append (faulting nothing), changes from run to run.
        Assert.True(faulted >= 5, $"only {faulted} of {total} failed syncs faulted the log");
        Assert.True(restored >= 5, $"only {restored} of {total} reopens found lost bytes to write again");
    }

    [Fact]
    public async Task LostBatch_ReopenWritesItAgainAndSaysSo()
    {
        var storage = new SimulatedStorage("sim://lost-batch");
        var payloads = new List<byte[]>();
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            for (var i = 0; i < 5; i++)
            {
                payloads.Add(Payloads.Make(0, i, 300));
                Assert.Equal(i + 1, await wal.AppendAsync(payloads[i]));
            }

            storage.FailSyncLosingWrites(OperationKind.DataSync, 1, StorageErrors.IoErrno, fileName: FirstSegment);
            payloads.Add(Payloads.Make(0, 5, 300));
            await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendAsync(payloads[5]));
            Assert.Equal(5, wal.DurableLsn);
        }

        // The cache holds LSN 6, the disk does not.
        Assert.False(SameOnDevice(storage, FirstSegment), "the failed sync lost nothing: the test proves nothing");

        var logger = new TestLogger();
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage, logger: logger)))
        {
            Assert.Equal(6, wal.DurableLsn);
        }

        Assert.True(SameOnDevice(storage, FirstSegment), "the reopen left bytes in the cache that the disk does not hold");
        var restored = Assert.Single(logger.Events(7));
        Assert.Contains($"segment '{FirstSegment}'", restored.Message, StringComparison.Ordinal);
        Assert.Contains("LSNs 6 to 6", restored.Message, StringComparison.Ordinal);

        var afterPowerLoss = await LogChecks.RecoverAsync(storage.CrashImage(storage.OperationCount, CrashMode.DropUnsynced, 0));
        Assert.Equal(6, afterPowerLoss.Count);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(payloads[i], afterPowerLoss[i].Payload);
        }
    }

    [Theory]
    [InlineData("DataSync")]
    [InlineData("Write")]
    public async Task LostBatch_ReopenWhoseSyncOrRewriteFails_RefusesToOpen_AndTheNextReopenChecksAgain(string operation)
    {
        var failing = Enum.Parse<OperationKind>(operation);
        var storage = await LoseSecondAppendAsync(new SimulatedStorage("sim://lost-then-" + failing));

        // The reopen writes LSN 2 again past the cache; that write fails (a full disk), or its sync
        // fails the same way the first did: it must not open.
        var before = storage.OperationCount;
        var errno = failing == OperationKind.Write ? StorageErrors.NoSpaceErrno : StorageErrors.IoErrno;
        if (failing == OperationKind.Write)
        {
            storage.FailOperation(OperationKind.Write, 1, errno, fileName: FirstSegment);
        }
        else
        {
            storage.FailSyncLosingWrites(OperationKind.DataSync, 1, errno, fileName: FirstSegment);
        }

        var error = await Assert.ThrowsAnyAsync<IOException>(async () => await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)));
        Assert.Equal(errno, error.HResult);
        Assert.Contains(storage.Trace.Skip(before), e => e is { Kind: OperationKind.Write, Direct: true });
        Assert.False(SameOnDevice(storage, FirstSegment), "the failed reopen's write reached the device: the test proves nothing");

        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            Assert.Equal(2, wal.DurableLsn);
        }

        Assert.Equal(2, (await LogChecks.RecoverAsync(storage.CrashImage(storage.OperationCount, CrashMode.DropUnsynced, 0))).Count);
    }

    [Fact]
    public async Task LostSealTrailer_ReopenWritesItAgain_SoTheSegmentStaysSealedAfterPowerLoss()
    {
        // A dry run finds the append that rolls, and which sync of the first segment is the seal's
        // second one (after the trailer's write; the first covered the records).
        var dry = new SimulatedStorage("sim://lost-trailer-dry");
        var appends = 0;
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(dry)))
        {
            while (SegmentCount(dry) == 1)
            {
                await wal.AppendAsync(Payloads.Make(0, appends++, 1500));
            }
        }

        var trace = dry.Trace;
        var trailer = trace.First(e => e.Kind == OperationKind.Write && e.Name == FirstSegment && e.Offset == SegmentLayout.RecordsEnd(SimulatedWorkload.SegmentSize));
        var nth = trace.Take(trailer.Index).Count(e => e.Kind == OperationKind.DataSync && e.Name == FirstSegment) + 1;

        var storage = new SimulatedStorage("sim://lost-trailer");
        storage.FailSyncLosingWrites(OperationKind.DataSync, nth, StorageErrors.IoErrno, fileName: FirstSegment);
        var options = SimulatedWorkload.OptionsFor(storage);
        var acknowledged = new List<byte[]>();
        await using (var wal = await Wal.OpenAsync(options))
        {
            for (var i = 0; i < appends - 1; i++)
            {
                acknowledged.Add(Payloads.Make(0, i, 1500));
                Assert.Equal(i + 1, await wal.AppendAsync(acknowledged[i]));
            }

            await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendAsync(Payloads.Make(0, appends - 1, 1500)));
        }

        Assert.Contains(storage.Trace, e => e.LostWrites);
        Assert.False(SameOnDevice(storage, FirstSegment), "the failed sync lost nothing: the test proves nothing");

        // Reopen in the same boot and append into a new segment: the first is no longer the last.
        await using (var wal = await Wal.OpenAsync(options))
        {
            Assert.Equal(acknowledged.Count + 1, await wal.AppendAsync(Payloads.Make(1, 0, 100)));
        }

        Assert.Equal(2, SegmentCount(storage));
        Assert.True(SameOnDevice(storage, FirstSegment), "the reopen left bytes of the sealed segment in the cache only");
        var records = await LogChecks.RecoverAsync(storage.CrashImage(storage.OperationCount, CrashMode.DropUnsynced, 0));
        Assert.Equal(acknowledged.Count + 1, records.Count);
        for (var i = 0; i < acknowledged.Count; i++)
        {
            Assert.Equal(acknowledged[i], records[i].Payload);
        }
    }

    [Fact]
    public async Task WithoutDirectReads_ReopenSaysItCouldNotCheck()
    {
        var storage = await LoseSecondAppendAsync(new SimulatedStorage("sim://no-direct-io") { DirectIo = false });

        var logger = new TestLogger();
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage, logger: logger)))
        {
            Assert.Equal(2, wal.DurableLsn);
        }

        var unchecked_ = Assert.Single(logger.Events(8));
        Assert.Contains("records after LSN 1 may be in the cache only", unchecked_.Message, StringComparison.Ordinal);
        Assert.Empty(logger.Events(7));
    }

    [Fact]
    public async Task CleanReopen_ReadsNothingPastTheCache()
    {
        var storage = new SimulatedStorage("sim://clean") { DirectIo = false };
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            await wal.AppendAsync(Payloads.Make(0, 0, 100));
        }

        // A clean close proves everything durable: no check, so no event saying it could not check.
        var logger = new TestLogger();
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage, logger: logger)))
        {
            Assert.Equal(1, wal.DurableLsn);
        }

        Assert.Empty(logger.Events(8));
    }

    // Appends one record durably, then one whose sync fails and loses it (the log faults).
    private static async Task<SimulatedStorage> LoseSecondAppendAsync(SimulatedStorage storage)
    {
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        await wal.AppendAsync(Payloads.Make(0, 0, 100));
        storage.FailSyncLosingWrites(OperationKind.DataSync, 1, StorageErrors.IoErrno, fileName: FirstSegment);
        await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendAsync(Payloads.Make(0, 1, 100)));
        return storage;
    }

    private static bool SameOnDevice(SimulatedStorage storage, string name)
    {
        var current = storage.ReadAllCurrent(name);
        using var file = storage.Open(name, writable: false);
        var device = new byte[current.Length];
        Assert.True(file.TryReadDevice(0, device, out var read));
        return read == current.Length && device.AsSpan().SequenceEqual(current);
    }

    private static int SegmentCount(SimulatedStorage storage) => storage.ListFiles().Count(name => name.EndsWith(".wal", StringComparison.Ordinal));
}
