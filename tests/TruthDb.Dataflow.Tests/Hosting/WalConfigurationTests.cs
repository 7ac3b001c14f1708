using System.Text;
using Microsoft.Extensions.Configuration;
using TruthDb.Dataflow.Hosting;

namespace TruthDb.Dataflow.Tests.Hosting;

public sealed class WalConfigurationTests
{
    [Fact]
    public void Load_Json_BindsEveryKeyWithFriendlyUnits()
    {
        var options = WalConfiguration.Load(Json("""
            {
              "TruthDb": {
                "Wal": {
                  "Directory": "data/log",
                  "SegmentSize": "256MiB",
                  "Durability": "written",
                  "MaxBatchRecords": 512,
                  "MaxBatchBytes": "512KiB",
                  "MaxBatchDelay": "250us",
                  "MaxPendingBytes": "1GiB",
                  "FlushInterval": "5ms"
                }
              }
            }
            """));

        Assert.Equal("data/log", options.Directory);
        Assert.Equal(256L << 20, options.SegmentSize);
        Assert.Equal(Durability.Written, options.Durability);
        Assert.Equal(512, options.MaxBatchRecords);
        Assert.Equal(512L << 10, options.MaxBatchBytes);
        Assert.Equal(TimeSpan.FromMicroseconds(250), options.MaxBatchDelay);
        Assert.Equal(1L << 30, options.MaxPendingBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(5), options.FlushInterval);
        options.Validate();
    }

    [Fact]
    public void Load_NoSection_GivesTheDefaults()
    {
        var options = WalConfiguration.Load(Json("""{ "Logging": { "LogLevel": { "Default": "Information" } } }"""));
        var defaults = new WalOptions();

        Assert.Equal(defaults.SegmentSize, options.SegmentSize);
        Assert.Equal(defaults.Durability, options.Durability);
        Assert.Equal(defaults.MaxBatchRecords, options.MaxBatchRecords);
        Assert.Equal(defaults.MaxBatchBytes, options.MaxBatchBytes);
        Assert.Equal(defaults.MaxBatchDelay, options.MaxBatchDelay);
        Assert.Equal(defaults.MaxPendingBytes, options.MaxPendingBytes);
        Assert.Equal(defaults.FlushInterval, options.FlushInterval);
    }

    [Fact]
    public void Load_JsonNull_LeavesTheDefault()
    {
        var options = WalConfiguration.Load(Json("""{ "TruthDb": { "Wal": { "SegmentSize": null, "Directory": "d" } } }"""));

        Assert.Equal(new WalOptions().SegmentSize, options.SegmentSize);
        Assert.Equal("d", options.Directory);
    }

    [Fact]
    public void Load_JsonArrayForAValue_IsReported()
    {
        var error = Assert.Throws<WalConfigurationException>(() => WalConfiguration.Load(Json("""{ "TruthDb": { "Wal": { "Directory": ["a", "b"] } } }""")));

        Assert.Contains("'TruthDb:Wal:Directory' must be a single value, not a section", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_KeysInAnyCase_AndTimeSpanStrings_Bind()
    {
        var options = WalConfiguration.Load(Memory(("truthdb:wal:segmentsize", "4096"), ("TRUTHDB:WAL:FLUSHINTERVAL", "00:00:02"), ("TruthDb:Wal:MaxBatchDelay", "0")));

        Assert.Equal(4096, options.SegmentSize);
        Assert.Equal(TimeSpan.FromSeconds(2), options.FlushInterval);
        Assert.Equal(TimeSpan.Zero, options.MaxBatchDelay);
    }

    [Fact]
    public void Load_UnknownKey_NamesItAndListsTheKnownKeys()
    {
        var error = Assert.Throws<WalConfigurationException>(() => WalConfiguration.Load(Json("""{ "TruthDb": { "Wal": { "SegmentSise": "64MiB" } } }""")));

        Assert.Contains("'TruthDb:Wal:SegmentSise' is not an option of the log", error.Message, StringComparison.Ordinal);
        Assert.Contains("Directory, SegmentSize, Durability, MaxBatchRecords, MaxBatchBytes, MaxBatchDelay, MaxPendingBytes, FlushInterval", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SegmentSize", "64XB", "not a size")]
    [InlineData("SegmentSize", "64M", "not a size")]
    [InlineData("MaxPendingBytes", "lots", "not a size")]
    [InlineData("MaxBatchBytes", "1.5B", "not a size")]
    [InlineData("FlushInterval", "5", "not a duration")]
    [InlineData("FlushInterval", "5 fortnights", "not a duration")]
    [InlineData("MaxBatchDelay", "1:99:00:00:00", "not a duration")]
    [InlineData("Durability", "Always", "not a durability: Sync or Written")]
    [InlineData("Durability", "1", "not a durability: Sync or Written")]
    [InlineData("MaxBatchRecords", "4k", "not a whole number")]
    public void Load_ValueThatDoesNotParse_NamesTheKeyAndTheValue(string key, string value, string expected)
    {
        var error = Assert.Throws<WalConfigurationException>(() => WalConfiguration.Load(Memory(($"TruthDb:Wal:{key}", value))));

        Assert.Contains($"'TruthDb:Wal:{key}' is '{value}', which is {expected}", error.Message, StringComparison.Ordinal);
        Assert.Single(error.Problems);
    }

    [Fact]
    public void Load_SeveralProblems_ReportsAllOfThem()
    {
        var error = Assert.Throws<WalConfigurationException>(() => WalConfiguration.Load(Memory(
            ("TruthDb:Wal:SegmentSize", "huge"), ("TruthDb:Wal:Colour", "blue"), ("TruthDb:Wal:FlushInterval:Seconds", "5"))));

        Assert.Equal(3, error.Problems.Count);
        Assert.Contains("'TruthDb:Wal:SegmentSize' is 'huge'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'TruthDb:Wal:Colour' is not an option", error.Message, StringComparison.Ordinal);
        Assert.Contains("'TruthDb:Wal:FlushInterval' must be a single value, not a section", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_WithAProblem_SetsNothing()
    {
        var options = new WalOptions { Directory = "keep" };
        Assert.Throws<WalConfigurationException>(() => WalConfiguration.Bind(
            Memory(("TruthDb:Wal:Directory", "changed"), ("TruthDb:Wal:SegmentSize", "?")).GetSection(WalConfiguration.SectionName), options));

        Assert.Equal("keep", options.Directory);
    }

    [Theory]
    [InlineData("SegmentSize", "1000", "WalOptions.SegmentSize is 1,000 bytes; it must be a multiple of 4096 bytes from 65,536 bytes to 17,179,869,184 bytes.")]
    [InlineData("SegmentSize", "1MB", "WalOptions.SegmentSize is 1,000,000 bytes; it must be a multiple of 4096 bytes")]
    [InlineData("MaxBatchDelay", "2s", "WalOptions.MaxBatchDelay is 00:00:02; it must be 00:00:00 to 00:00:01.")]
    [InlineData("FlushInterval", "2h", "WalOptions.FlushInterval is 02:00:00; it must be 1 ms to 1 hour.")]
    [InlineData("MaxBatchRecords", "-5", "WalOptions.MaxBatchRecords is -5; it must be 1 to 1048576.")]
    public void Validate_OutOfRangeValue_NamesTheOptionTheValueAndTheRange(string key, string value, string message)
    {
        var options = WalConfiguration.Load(Memory(("TruthDb:Wal:Directory", "x"), ($"TruthDb:Wal:{key}", value)));

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(key, error.ParamName);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("4096", 4096)]
    [InlineData("0", 0)]
    [InlineData("512B", 512)]
    [InlineData("512KiB", 512L * 1024)]
    [InlineData("64MiB", 64L * 1024 * 1024)]
    [InlineData("64 MiB", 64L * 1024 * 1024)]
    [InlineData("64mib", 64L * 1024 * 1024)]
    [InlineData("64Mi", 64L * 1024 * 1024)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("1TiB", 1L << 40)]
    [InlineData("4kB", 4000)]
    [InlineData("4KB", 4000)]
    [InlineData("64MB", 64_000_000)]
    [InlineData("2GB", 2_000_000_000)]
    [InlineData("1TB", 1_000_000_000_000)]
    public void TryParseSize_AcceptedForms(string text, long bytes)
    {
        Assert.True(WalConfiguration.TryParseSize(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("MiB")]
    [InlineData("64M")]
    [InlineData("64K")]
    [InlineData("-1MiB")]
    [InlineData("0.5B")]
    [InlineData("1.2.3MiB")]
    [InlineData("99999999999TiB")]
    [InlineData("64 MiB extra")]
    public void TryParseSize_Refused(string text) => Assert.False(WalConfiguration.TryParseSize(text, out _));

    [Theory]
    [InlineData("250ms", 250 * TimeSpan.TicksPerMillisecond)]
    [InlineData("250 ms", 250 * TimeSpan.TicksPerMillisecond)]
    [InlineData("5s", 5 * TimeSpan.TicksPerSecond)]
    [InlineData("1.5s", 15 * TimeSpan.TicksPerSecond / 10)]
    [InlineData("2m", 2 * TimeSpan.TicksPerMinute)]
    [InlineData("2min", 2 * TimeSpan.TicksPerMinute)]
    [InlineData("1h", TimeSpan.TicksPerHour)]
    [InlineData("1d", TimeSpan.TicksPerDay)]
    [InlineData("100us", 100 * TimeSpan.TicksPerMicrosecond)]
    [InlineData("100µs", 100 * TimeSpan.TicksPerMicrosecond)]
    [InlineData("0", 0)]
    [InlineData("00:00:05", 5 * TimeSpan.TicksPerSecond)]
    [InlineData("00:00:00.050", 50 * TimeSpan.TicksPerMillisecond)]
    [InlineData("1.00:00:00", TimeSpan.TicksPerDay)]
    [InlineData("-1s", -TimeSpan.TicksPerSecond)]
    public void TryParseDuration_AcceptedForms(string text, long ticks)
    {
        Assert.True(WalConfiguration.TryParseDuration(text, out var parsed));
        Assert.Equal(TimeSpan.FromTicks(ticks), parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("ms")]
    [InlineData("5 sec")]
    [InlineData("5x")]
    [InlineData("0.00001us")]
    [InlineData("25:00:00:00:00")]
    public void TryParseDuration_Refused(string text) => Assert.False(WalConfiguration.TryParseDuration(text, out _));

    private static IConfiguration Json(string json) =>
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();

    private static IConfiguration Memory(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
