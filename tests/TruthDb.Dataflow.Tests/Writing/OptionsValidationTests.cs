namespace TruthDb.Dataflow.Tests.Writing;

public sealed class OptionsValidationTests
{
    public static TheoryData<string, Action<WalOptions>, string> BadOptions() => new()
    {
        { "Directory", o => o.Directory = " ", "a path to a directory" },
        { "SegmentSize", o => o.SegmentSize = 1000, "65,536 bytes to 17,179,869,184 bytes" },
        { "SegmentSize", o => o.SegmentSize = 65536 + 100, "a multiple of 4096 bytes" },
        { "SegmentSize", o => o.SegmentSize = 32L * 1024 * 1024 * 1024, "17,179,869,184 bytes" },
        { "Durability", o => o.Durability = (Durability)7, "Sync or Written" },
        { "MaxBatchRecords", o => o.MaxBatchRecords = 0, "1 to 1048576" },
        { "MaxBatchBytes", o => o.MaxBatchBytes = 100, "4096 bytes to 256 MiB" },
        { "MaxBatchDelay", o => o.MaxBatchDelay = TimeSpan.FromSeconds(-1), "00:00:00 to 00:00:01" },
        { "MaxBatchDelay", o => o.MaxBatchDelay = TimeSpan.FromSeconds(5), "00:00:00 to 00:00:01" },
        { "MaxPendingBytes", o => o.MaxPendingBytes = 1000, "MaxBatchBytes (1,048,576 bytes) to 1 TiB" },
        { "FlushInterval", o => o.FlushInterval = TimeSpan.Zero, "1 ms to 1 hour" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task OpenAsync_BadOption_NamesTheOptionValueAndRange(string option, Action<WalOptions> spoil, string range)
    {
        var options = new WalOptions { Directory = Path.Combine(Path.GetTempPath(), "truthdb-never-created") };
        spoil(options);

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await Wal.OpenAsync(options));

        Assert.Equal(option, error.ParamName);
        Assert.StartsWith($"WalOptions.{option} is ", error.Message, StringComparison.Ordinal);
        Assert.Contains(range, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(options.Directory), "a rejected open must not create anything");
    }

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task Validate_BadOption_ThrowsWhatOpenAsyncThrows(string option, Action<WalOptions> spoil, string range)
    {
        var options = new WalOptions { Directory = Path.Combine(Path.GetTempPath(), "truthdb-never-created") };
        spoil(options);

        var fromValidate = Assert.Throws<ArgumentException>(options.Validate);
        var fromOpen = await Assert.ThrowsAsync<ArgumentException>(async () => await Wal.OpenAsync(options));

        Assert.Equal(option, fromValidate.ParamName);
        Assert.Contains(range, fromValidate.Message, StringComparison.Ordinal);
        Assert.Equal(fromOpen.Message, fromValidate.Message);
    }

    [Fact]
    public async Task OpenAsync_OptionsChangedAfterOpen_AreNotReadAgain()
    {
        var directory = Path.Combine(Path.GetTempPath(), "truthdb-tests", Guid.NewGuid().ToString("N"));
        var options = new WalOptions { Directory = directory, SegmentSize = 64 * 1024 };
        try
        {
            await using var wal = await Wal.OpenAsync(options);
            options.SegmentSize = 1;
            options.Durability = (Durability)9;
            Assert.Equal(1, await wal.AppendAsync(new byte[10]));
            Assert.Equal(1, wal.DurableLsn);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
