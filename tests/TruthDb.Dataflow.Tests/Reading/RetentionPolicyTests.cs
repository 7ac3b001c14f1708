using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Reading;

public sealed class RetentionPolicyTests
{
    [Fact]
    public async Task MaxBytes_KeepsTheLogWithinTheBound_ButNeverPastTheSlowestCursor()
    {
        var storage = new SimulatedStorage("sim://max-bytes");
        var options = SimulatedWorkload.OptionsFor(storage);
        options.RetentionMaxBytes = 4 * options.SegmentSize;
        await using var wal = await Wal.OpenAsync(options);
        for (var i = 0; i < 1000; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 600));
        }

        Assert.True(wal.GetStatistics().Segments <= 4, $"{wal.GetStatistics().Segments} segments");
        Assert.True(wal.FirstLsn > 500);
        var records = await wal.ReadAllAsync(0);
        Assert.Equal(1000, records[^1].Lsn);

        await wal.CommitCursorAsync("reader", wal.FirstLsn);
        var held = wal.FirstLsn;
        for (var i = 1000; i < 2000; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 600));
        }

        Assert.True(wal.FirstLsn <= held + 1, "retention passed the slowest cursor");
        Assert.True(wal.GetStatistics().Segments > 4);
    }

    [Fact]
    public async Task MaxAge_DropsSegmentsWhoseRecordsAreAllOlder()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddDays(20000));
        var storage = new SimulatedStorage("sim://max-age");
        var options = SimulatedWorkload.OptionsFor(storage);
        options.RetentionMaxAge = TimeSpan.FromHours(1);
        options.TimeProvider = clock;
        await using var wal = await Wal.OpenAsync(options);
        for (var i = 0; i < 300; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 600));
        }

        Assert.Equal(1, wal.FirstLsn);
        clock.Now += TimeSpan.FromHours(2);
        var segmentsBefore = wal.GetStatistics().Segments;
        for (var i = 300; i < 420; i++)
        {
            await wal.AppendAsync(Payloads.Make(0, i, 600));
        }

        Assert.True(wal.FirstLsn > 250, $"old segments should be gone: FirstLsn {wal.FirstLsn}");
        Assert.True(wal.GetStatistics().Segments < segmentsBefore + 2);
    }

    [Theory]
    [InlineData(100_000L, "RetentionMaxBytes")]
    [InlineData(-1L, "RetentionMaxBytes")]
    public async Task BadRetentionBytes_IsRefused(long bytes, string option)
    {
        var options = SimulatedWorkload.OptionsFor(new SimulatedStorage("sim://bad-retention"));
        options.RetentionMaxBytes = bytes;
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await Wal.OpenAsync(options));
        Assert.Equal(option, error.ParamName);
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
