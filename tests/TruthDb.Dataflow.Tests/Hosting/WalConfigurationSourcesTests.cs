using Microsoft.Extensions.Configuration;
using TruthDb.Dataflow.Hosting;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Hosting;

/// <summary>
/// The sources of <see cref="WalConfigurationBuilderExtensions.AddTruthDbConfiguration"/>. These tests set
/// process environment variables, so they run alone (no other test reads TRUTHDB_TruthDb__Wal__* variables).
/// </summary>
[Collection(ProcessEnvironment.Name)]
public sealed class WalConfigurationSourcesTests : IDisposable
{
    private const string SegmentSizeVariable = "TRUTHDB_TruthDb__Wal__SegmentSize";
    private const string DurabilityVariable = "TRUTHDB_TruthDb__Wal__Durability";
    private readonly TestDirectory _dir = new();

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(SegmentSizeVariable, null);
        Environment.SetEnvironmentVariable(DurabilityVariable, null);
        _dir.Dispose();
    }

    [Fact]
    public void JsonFile_IsRead()
    {
        var options = Load(args: null, json: """{ "TruthDb": { "Wal": { "Directory": "from-json", "SegmentSize": "1MiB" } } }""");

        Assert.Equal("from-json", options.Directory);
        Assert.Equal(1L << 20, options.SegmentSize);
    }

    [Fact]
    public void MissingJsonFile_IsNotAnError()
    {
        var options = WalConfiguration.Load(new ConfigurationBuilder().AddTruthDbConfiguration(null, Path.Combine(_dir.Path, "absent.json")).Build());

        Assert.Equal(new WalOptions().SegmentSize, options.SegmentSize);
    }

    [Fact]
    public void EnvironmentVariables_WithThePrefixAndDoubleUnderscores_AreRead()
    {
        Environment.SetEnvironmentVariable(SegmentSizeVariable, "2MiB");
        Environment.SetEnvironmentVariable(DurabilityVariable, "Written");

        var options = Load(args: null, json: null);

        Assert.Equal(2L << 20, options.SegmentSize);
        Assert.Equal(Durability.Written, options.Durability);
    }

    [Fact]
    public void CommandLine_FullKeysAndShortSwitches_AreRead()
    {
        var options = Load(["--TruthDb:Wal:SegmentSize=4MiB", "--durability", "written", "--flush-interval=10ms", "--max-batch-delay", "1ms"], json: null);

        Assert.Equal(4L << 20, options.SegmentSize);
        Assert.Equal(Durability.Written, options.Durability);
        Assert.Equal(TimeSpan.FromMilliseconds(10), options.FlushInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(1), options.MaxBatchDelay);
    }

    [Fact]
    public void Precedence_CommandLineOverEnvironmentOverJson()
    {
        const string json = """{ "TruthDb": { "Wal": { "Directory": "from-json", "SegmentSize": "1MiB", "Durability": "Sync", "MaxBatchRecords": 7 } } }""";
        Environment.SetEnvironmentVariable(SegmentSizeVariable, "2MiB");
        Environment.SetEnvironmentVariable(DurabilityVariable, "Written");

        var fromAll = Load(["--segment-size", "4MiB"], json);
        var withoutArgs = Load(args: null, json);
        Environment.SetEnvironmentVariable(SegmentSizeVariable, null);
        Environment.SetEnvironmentVariable(DurabilityVariable, null);
        var jsonOnly = Load(args: null, json);

        Assert.Equal(4L << 20, fromAll.SegmentSize);
        Assert.Equal(Durability.Written, fromAll.Durability);
        Assert.Equal(7, fromAll.MaxBatchRecords);
        Assert.Equal("from-json", fromAll.Directory);
        Assert.Equal(2L << 20, withoutArgs.SegmentSize);
        Assert.Equal(1L << 20, jsonOnly.SegmentSize);
        Assert.Equal(Durability.Sync, jsonOnly.Durability);
    }

    [Fact]
    public void EnvironmentVariable_WithABadValue_IsReportedByItsKey()
    {
        Environment.SetEnvironmentVariable(SegmentSizeVariable, "big");

        var error = Assert.Throws<WalConfigurationException>(() => Load(args: null, json: null));

        Assert.Contains("'TruthDb:Wal:SegmentSize' is 'big'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CommandLine_UnknownKeyUnderTheSection_IsReported()
    {
        var error = Assert.Throws<WalConfigurationException>(() => Load(["--TruthDb:Wal:Durabilty=Sync"], json: null));

        Assert.Contains("'TruthDb:Wal:Durabilty' is not an option of the log", error.Message, StringComparison.Ordinal);
    }

    private WalOptions Load(string[]? args, string? json)
    {
        var path = Path.Combine(_dir.Path, "appsettings.json");
        if (json is not null)
        {
            File.WriteAllText(path, json);
        }

        return WalConfiguration.Load(new ConfigurationBuilder().AddTruthDbConfiguration(args, path).Build());
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironment
{
    public const string Name = "Process environment";
}
