using Microsoft.Extensions.Logging;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Diagnostics;

public sealed class WalEventsTests
{
    [Fact]
    public async Task Lifecycle_CreateOpenRollClose_LogsEachEvent()
    {
        var storage = new SimulatedStorage($"sim://events/{Guid.NewGuid():N}");
        var logger = new TestLogger();
        var options = SimulatedWorkload.OptionsFor(storage);
        options.Logger = logger;
        await using (var wal = await Wal.OpenAsync(options))
        {
            for (var i = 0; i < 100; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 1000));
            }
        }

        var created = Assert.Single(logger.Events(1));
        Assert.Equal(LogLevel.Information, created.Level);
        Assert.Contains(storage.DirectoryPath, created.Message, StringComparison.Ordinal);

        var opened = Assert.Single(logger.Events(4));
        Assert.Equal(LogLevel.Information, opened.Level);
        Assert.Equal(Durability.Sync, opened.Properties["Durability"]);
        Assert.Equal(SimulatedWorkload.SegmentSize, opened.Properties["SegmentSize"]);
        Assert.Contains("durability Sync", opened.Message, StringComparison.Ordinal);
        Assert.Contains($"segment size {SimulatedWorkload.SegmentSize} bytes", opened.Message, StringComparison.Ordinal);

        var rolls = logger.Events(10);
        Assert.NotEmpty(rolls);
        Assert.Contains(SegmentNames.ForSegment(1), rolls[0].Message, StringComparison.Ordinal);

        var closed = Assert.Single(logger.Events(13));
        Assert.Contains("durable LSN 100", closed.Message, StringComparison.Ordinal);
        Assert.True(logger.Entries.ToList().IndexOf(opened) < logger.Entries.ToList().IndexOf(closed));
    }

    [Fact]
    public async Task Reopen_LogsRecoveredAndOpenedWithTheLsnRange()
    {
        var storage = new SimulatedStorage($"sim://reopen/{Guid.NewGuid():N}");
        await using (var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage)))
        {
            for (var i = 0; i < 7; i++)
            {
                await wal.AppendAsync(Payloads.Make(0, i, 100));
            }
        }

        var logger = new TestLogger();
        var options = SimulatedWorkload.OptionsFor(storage.ProcessCrashImage());
        options.Logger = logger;
        await using (await Wal.OpenAsync(options))
        {
        }

        Assert.Empty(logger.Events(1));
        Assert.Contains("LSNs 1 to 7", Assert.Single(logger.Events(2)).Message, StringComparison.Ordinal);
        var opened = Assert.Single(logger.Events(4));
        Assert.Equal(1L, opened.Properties["FirstLsn"]);
        Assert.Equal(7L, opened.Properties["LastLsn"]);
    }

    [Fact]
    public async Task TornTail_LogsWhatWasTruncated()
    {
        using var dir = new TestDirectory();
        var options = new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 };
        await using (var wal = await Wal.OpenAsync(options))
        {
            await wal.AppendAsync(Payloads.Make(0, 0, 100));
        }

        // As after a crash: no clean-close note (it would tell recovery the tail needs no scan).
        File.Delete(Path.Combine(dir.Path, CleanClose.FileName));
        using (var file = File.OpenHandle(Path.Combine(dir.Path, SegmentNames.ForSegment(1)), FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.Write(file, Enumerable.Repeat((byte)0xAB, 64).ToArray(), SegmentLayout.RecordsStart + FrameCodec.FrameLength(100));
        }

        var logger = new TestLogger();
        options.Logger = logger;
        await using (await Wal.OpenAsync(options))
        {
        }

        var torn = Assert.Single(logger.Events(3));
        Assert.Equal(LogLevel.Warning, torn.Level);
        Assert.Equal(64L, torn.Properties["Bytes"]);
        Assert.Equal(2L, torn.Properties["FromLsn"]);
    }

    [Fact]
    public async Task Fault_LogsCriticalWithTheError()
    {
        var storage = new SimulatedStorage($"sim://fault-event/{Guid.NewGuid():N}");
        var logger = new TestLogger();
        var options = SimulatedWorkload.OptionsFor(storage);
        options.Logger = logger;
        await using var wal = await Wal.OpenAsync(options);
        await wal.AppendAsync(Payloads.Make(0, 0, 50));
        storage.FailOperation(OperationKind.DataSync, 1, StorageErrors.IoErrno);
        await Assert.ThrowsAsync<WalFaultedException>(async () => await wal.AppendAsync(Payloads.Make(0, 1, 50)));

        var fault = Assert.Single(logger.Events(12));
        Assert.Equal(LogLevel.Critical, fault.Level);
        Assert.IsType<IOException>(fault.Exception);
        Assert.Contains("durable watermark stays at LSN 1", fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogFull_LogsAWarning()
    {
        var storage = new SimulatedStorage($"sim://full-event/{Guid.NewGuid():N}") { CapacityBytes = SimulatedWorkload.SegmentSize * 3 / 2 };
        var logger = new TestLogger();
        var options = SimulatedWorkload.OptionsFor(storage);
        options.Logger = logger;
        await using var wal = await Wal.OpenAsync(options);
        for (var i = 0; ; i++)
        {
            Assert.True(i < 1000, "the log never filled up");
            try
            {
                await wal.AppendAsync(Payloads.Make(0, i, 500));
            }
            catch (WalFullException)
            {
                break;
            }
        }

        var full = Assert.Single(logger.Events(11));
        Assert.Equal(LogLevel.Warning, full.Level);
        Assert.Contains("is full", full.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenFailure_LogsAnErrorNamingTheDirectory()
    {
        var storage = new SimulatedStorage($"sim://locked/{Guid.NewGuid():N}");
        await using var first = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage));
        var logger = new TestLogger();
        var options = SimulatedWorkload.OptionsFor(storage);
        options.Logger = logger;

        var error = await Assert.ThrowsAsync<IOException>(async () => await Wal.OpenAsync(options));

        var failed = Assert.Single(logger.Events(5));
        Assert.Equal(LogLevel.Error, failed.Level);
        Assert.Same(error, failed.Exception);
        Assert.Contains(storage.DirectoryPath, failed.Message, StringComparison.Ordinal);
    }
}
