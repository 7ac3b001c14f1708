using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

public sealed class UsageTests : IDisposable
{
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData("append")]
    [InlineData("read")]
    [InlineData("tail")]
    [InlineData("dump")]
    [InlineData("verify")]
    [InlineData("stats")]
    [InlineData("bench")]
    public async Task Help_EveryVerb_PrintsUsageAndSucceeds(string verb)
    {
        var result = await Truthdb.RunAsync([verb, "--help"], [], Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Usage:", result.Stdout);
        Assert.Contains("truthdb " + verb, result.Stdout);
        Assert.Contains("--dir", result.Stdout);
    }

    [Fact]
    public async Task Help_Root_ListsVerbs()
    {
        var result = await Truthdb.RunAsync(["--help"], [], Timeouts.Token());
        Assert.Equal(0, result.ExitCode);
        foreach (var verb in new[] { "append", "read", "tail", "dump", "verify", "stats", "bench" })
        {
            Assert.Contains(verb, result.Stdout);
        }
    }

    [Theory]
    [InlineData(new[] { "read" }, "--dir")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    [InlineData(new[] { "read", "--dir", "x", "--format", "xml" }, "xml")]
    [InlineData(new[] { "read", "--dir", "x", "--from", "-1" }, "--from must be at least 0")]
    [InlineData(new[] { "read", "--dir", "x", "--from", "abc" }, "abc")]
    [InlineData(new[] { "bench", "--dir", "x", "--records", "many" }, "many")]
    [InlineData(new[] { "append", "--dir", "x", "--durability", "maybe" }, "maybe")]
    [InlineData(new[] { "append", "--dir", "x", "--segment-size", "lots" }, "'lots' is not a size")]
    [InlineData(new[] { "bench", "--dir", "x", "--producers", "0" }, "--producers must be at least 1")]
    [InlineData(new[] { "bench", "--dir", "x", "--records", "5", "--duration", "1" }, "not both")]
    public async Task BadArguments_ExitWithUsageCodeAndMessage(string[] args, string expected)
    {
        var result = await Truthdb.RunAsync(args, [], Timeouts.Token());
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(expected, result.Stderr);
        Assert.Contains("--help", result.Stderr);
    }

    [Theory]
    [InlineData("read")]
    [InlineData("dump")]
    [InlineData("verify")]
    [InlineData("stats")]
    public async Task ReadOnlyVerbs_MissingDirectory_FailWithoutCreatingALog(string verb)
    {
        var result = await Truthdb.RunAsync([verb, "--dir", _log.Dir], [], Timeouts.Token());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("does not exist", result.Stderr);
        Assert.False(Directory.Exists(_log.Dir));
    }

    [Fact]
    public async Task Read_DirectoryWithoutLog_FailsWithoutCreatingOne()
    {
        Directory.CreateDirectory(_log.Dir);
        var result = await Truthdb.RunAsync(["read", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no log", result.Stderr);
        Assert.Empty(Directory.GetFiles(_log.Dir));
    }

    [Fact]
    public async Task Append_InvalidSegmentSize_FailsWithEngineMessage()
    {
        var result = await Truthdb.RunAsync(["append", "--dir", _log.Dir, "--segment-size", "1000"], "x\n", Timeouts.Token());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("SegmentSize", result.Stderr);
    }
}
