using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Diagnostics;

public sealed class WalMetricsTests
{
    [Fact]
    public async Task Appends_CountersAndHistograms_EqualTheAppendsMade()
    {
        using var dir = new TestDirectory();
        using var metrics = new MetricsCollector(dir.Path);
        var lengths = Enumerable.Range(0, 300).Select(i => 20 + (i * 37 % 500)).ToArray();
        WalStatistics statistics;
        await using (var wal = await Wal.OpenAsync(new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 }))
        {
            // Concurrent producers, so some batches hold more than one record.
            await Task.WhenAll(Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
            {
                for (var i = p; i < lengths.Length; i += 4)
                {
                    await wal.AppendAsync(Payloads.Make(p, i, lengths[i]));
                }
            })));
            statistics = wal.GetStatistics();
        }

        Assert.Equal(lengths.Length, metrics.Sum("truthdb.wal.records.appended"));
        Assert.Equal(lengths.Sum(), metrics.Sum("truthdb.wal.bytes.appended"));
        Assert.Equal(lengths.Length, metrics.Sum("truthdb.wal.batch.records"));
        Assert.Equal(lengths.Sum(), metrics.Sum("truthdb.wal.batch.bytes"));
        Assert.Equal(statistics.Batches, metrics.Of("truthdb.wal.batch.records").Count);
        Assert.Equal(statistics.BytesWritten, metrics.Sum("truthdb.wal.bytes.written"));
        Assert.True(statistics.SegmentsCreated > 0, "the test should roll segments");

        var latencies = metrics.Of("truthdb.wal.append.duration");
        Assert.Equal(lengths.Length, latencies.Count);
        Assert.All(latencies, s => Assert.InRange(s.Value, 0, Timeouts.Unexpected.TotalSeconds));

        // Durability.Sync: one fdatasync per batch at least (seals and the final flush add more).
        var syncs = metrics.Of("truthdb.wal.sync.duration");
        Assert.True(syncs.Count >= statistics.Batches, $"{syncs.Count} syncs recorded for {statistics.Batches} batches");
        Assert.Equal(statistics.Syncs, syncs.Count);
        Assert.All(syncs, s => Assert.InRange(s.Value, 0, Timeouts.Unexpected.TotalSeconds));
        Assert.Empty(metrics.Of("truthdb.wal.faults"));
    }

    [Theory]
    [InlineData("truthdb.wal.records.appended", "{record}", "Counter`1")]
    [InlineData("truthdb.wal.bytes.appended", "By", "Counter`1")]
    [InlineData("truthdb.wal.bytes.written", "By", "Counter`1")]
    [InlineData("truthdb.wal.appends.refused", "{record}", "Counter`1")]
    [InlineData("truthdb.wal.batch.records", "{record}", "Histogram`1")]
    [InlineData("truthdb.wal.batch.bytes", "By", "Histogram`1")]
    [InlineData("truthdb.wal.sync.duration", "s", "Histogram`1")]
    [InlineData("truthdb.wal.append.duration", "s", "Histogram`1")]
    [InlineData("truthdb.wal.recovery.truncated.bytes", "By", "Counter`1")]
    [InlineData("truthdb.wal.faults", "{fault}", "Counter`1")]
    [InlineData("truthdb.wal.pending.bytes", "By", "ObservableUpDownCounter`1")]
    [InlineData("truthdb.wal.queued.records", "{record}", "ObservableUpDownCounter`1")]
    [InlineData("truthdb.wal.segments", "{segment}", "ObservableUpDownCounter`1")]
    [InlineData("truthdb.wal.lsn.written", "{lsn}", "ObservableGauge`1")]
    [InlineData("truthdb.wal.lsn.durable", "{lsn}", "ObservableGauge`1")]
    public async Task Meter_PublishesEachInstrument_WithItsUnitAndKind(string name, string unit, string kind)
    {
        var storage = new SimulatedStorage($"sim://instruments/{Guid.NewGuid():N}");
        using var metrics = new MetricsCollector(storage.DirectoryPath);
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));

        Assert.True(metrics.Instruments.TryGetValue(name, out var instrument), $"no instrument {name}");
        Assert.Equal(unit, instrument.Unit);
        Assert.Equal(kind, instrument.GetType().Name);
        Assert.False(string.IsNullOrEmpty(instrument.Description));
    }

    [Fact]
    public async Task ObservableInstruments_ReportQueueWatermarksAndSegments_UntilTheLogCloses()
    {
        var storage = new SimulatedStorage($"sim://observed/{Guid.NewGuid():N}");
        using var metrics = new MetricsCollector(storage.DirectoryPath);
        var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        for (var i = 0; i < 100; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 1000));
        }

        metrics.Observe();
        Assert.Equal(100, metrics.Of("truthdb.wal.lsn.written").Single().Value);
        Assert.Equal(100, metrics.Of("truthdb.wal.lsn.durable").Single().Value);
        Assert.Equal(0, metrics.Of("truthdb.wal.pending.bytes").Single().Value);
        Assert.Equal(0, metrics.Of("truthdb.wal.queued.records").Single().Value);
        Assert.Equal(wal.GetStatistics().Segments, metrics.Of("truthdb.wal.segments").Single().Value);
        Assert.True(metrics.Of("truthdb.wal.segments").Single().Value > 1, "the appends should fill more than one segment");

        await wal.DisposeAsync();
        metrics.Observe();
        Assert.Single(metrics.Of("truthdb.wal.lsn.durable"));
    }

    [Fact]
    public async Task PendingBytes_WhileTheWriterIsHeld_CountsTheAcceptedPayloads()
    {
        var inner = new SimulatedStorage($"sim://pending/{Guid.NewGuid():N}");
        var storage = new GatedStorage(inner);
        using var metrics = new MetricsCollector(storage.DirectoryPath);
        var options = SimulatedWorkload.OptionsFor(inner);
        options.Storage = storage;
        await using var wal = await Wal.OpenAsync(options);
        storage.Close();
        var first = wal.AppendAsync(new byte[100]);
        await storage.WaitForHeldSyncAsync(Timeouts.Token());
        var second = wal.AppendAsync(new byte[200]);

        metrics.Observe();
        Assert.Equal(300, metrics.Of("truthdb.wal.pending.bytes").Single().Value);
        Assert.Equal(1, metrics.Of("truthdb.wal.queued.records").Single().Value);

        storage.Open();
        await first;
        await second;
    }

    [Fact]
    public async Task InjectedSyncFailure_CountsOneFault_WithItsErrorType()
    {
        var storage = new SimulatedStorage($"sim://fault/{Guid.NewGuid():N}");
        using var metrics = new MetricsCollector(storage.DirectoryPath);
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        await wal.AppendAsync(Payloads.Make(0, 0, 50));
        storage.FailOperation(OperationKind.DataSync, 1, StorageErrors.IoErrno);

        await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendAsync(Payloads.Make(0, 1, 50)));
        await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendAsync(Payloads.Make(0, 2, 50)));

        var fault = Assert.Single(metrics.Of("truthdb.wal.faults"));
        Assert.Equal(1, fault.Value);
        Assert.Contains(fault.Tags, t => t.Key == "error.type" && (string?)t.Value == typeof(IOException).FullName);
        Assert.Equal(1, metrics.Sum("truthdb.wal.records.appended"));
    }

    [Fact]
    public async Task LogFull_CountsTheRefusedAppends()
    {
        var storage = new SimulatedStorage($"sim://full/{Guid.NewGuid():N}") { CapacityBytes = SimulatedWorkload.SegmentSize * 3 / 2 };
        using var metrics = new MetricsCollector(storage.DirectoryPath);
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        var refused = 0;
        for (var i = 0; refused < 3; i++)
        {
            Assert.True(i < 1000, "the log never filled up");
            try
            {
                await wal.AppendAsync(Payloads.Make(0, i, 500));
            }
            catch (WalFullException)
            {
                refused++;
            }
        }

        Assert.Equal(3, metrics.Sum("truthdb.wal.appends.refused"));
        Assert.Empty(metrics.Of("truthdb.wal.faults"));
    }

    [Fact]
    public async Task Recovery_TornTail_CountsTheTruncatedBytes()
    {
        using var dir = new TestDirectory();
        var options = new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 };
        await using (var wal = await Wal.OpenAsync(options))
        {
            for (var i = 0; i < 5; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 100));
            }
        }

        // As after a crash: no clean-close note (it would tell recovery the tail needs no scan).
        File.Delete(Path.Combine(dir.Path, CleanClose.FileName));
        // Garbage right after the last frame: a torn write that was never acknowledged.
        var tailOffset = SegmentLayout.RecordsStart + (5 * FrameCodec.FrameLength(Payloads.Make(0, 0, 100).Length));
        using (var file = File.OpenHandle(Path.Combine(dir.Path, SegmentNames.ForSegment(1)), FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.Write(file, Enumerable.Repeat((byte)0xAB, 100).ToArray(), tailOffset);
        }

        using var metrics = new MetricsCollector(Path.GetFullPath(dir.Path));
        await using (var wal = await Wal.OpenAsync(options))
        {
            Assert.Equal(5, wal.DurableLsn);
        }

        Assert.Equal(100, metrics.Sum("truthdb.wal.recovery.truncated.bytes"));
    }
}
