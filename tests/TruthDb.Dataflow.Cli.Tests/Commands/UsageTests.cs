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
    public async Task Append_InvalidSegmentSize_ExitsWithUsageCodeNamingTheFlag()
    {
        var result = await Truthdb.RunAsync(["append", "--dir", _log.Dir, "--segment-size", "1000"], "x\n", Timeouts.Token());
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--segment-size is 1,000 bytes; it must be a multiple of 4096 bytes", result.Stderr);
        AssertInCliTerms(result);
        Assert.False(Directory.Exists(_log.Dir));
    }

    [Theory]
    [InlineData(new[] { "frobnicate" }, "'frobnicate' is not a verb or option here.")]
    [InlineData(new[] { "read", "--dir", "x", "--from", "abc" }, "--from: 'abc' is not a whole number.")]
    [InlineData(new[] { "tail", "--dir", "x", "--count", "many" }, "--count: 'many' is not a whole number.")]
    [InlineData(new[] { "read", "--dir", "x", "--count", "0" }, "--count must be at least 1")]
    [InlineData(new[] { "read", "--dir", "x", "--to", "3", "--from", "9" }, "--to (3) is below --from (9)")]
    [InlineData(new[] { "tail", "--dir", "x", "--cursor", "a b" }, "--cursor: 'a b' is not a valid cursor name")]
    [InlineData(new[] { "read", "--dir", "x", "--commit" }, "--commit needs --cursor")]
    [InlineData(new[] { "truncate", "--dir", "x", "--before", "zero" }, "--before: 'zero' is not a whole number.")]
    [InlineData(new[] { "truncate", "--dir", "x", "--before", "0" }, "--before must be at least 1")]
    [InlineData(new[] { "stats", "--dir", "x", "extra" }, "'extra' is not a verb or option here.")]
    [InlineData(new[] { "dump", "--dir", "x", "--payload", "base32" }, "base32")]
    [InlineData(new[] { "verify", "--dir", "x", "--bogus" }, "'--bogus' is not a verb or option here.")]
    [InlineData(new[] { "bench", "--dir", "x", "--records", "many" }, "--records: 'many' is not a whole number.")]
    [InlineData(new[] { "append", "--dir", "x", "--segment-size", "1M" }, "--segment-size: '1M' is not a size")]
    [InlineData(new[] { "serve", "--dir", "x", "--socket", "s", "--retention-max-age", "5 days" }, "--retention-max-age: '5 days' is not a duration")]
    [InlineData(new[] { "serve", "--dir", "x", "--socket", "s", "--max-message-size", "1KiB" }, "--max-message-size is 1 KiB; it must be 64 KiB to 64 MiB.")]
    public async Task BadInput_EveryVerb_ExitsWithUsageCodeInTheCliTerms(string[] args, string expected)
    {
        var result = await Truthdb.RunAsync(args, [], Timeouts.Token());
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(expected, result.Stderr);
        AssertInCliTerms(result);
    }

    [Theory]
    [InlineData("read")]
    [InlineData("tail")]
    [InlineData("dump")]
    [InlineData("verify")]
    [InlineData("stats")]
    [InlineData("append")]
    [InlineData("bench")]
    public async Task DirIsAFile_EveryVerb_SaysItIsAFile(string verb)
    {
        var file = Path.Combine(_log.Root, "not-a-directory");
        await File.WriteAllTextAsync(file, "x");
        var result = await Truthdb.RunAsync([verb, "--dir", file], "x\n", Timeouts.Token());
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"--dir '{file}' is a file, not a log directory", result.Stderr);
        Assert.DoesNotContain("does not exist", result.Stderr);
        AssertInCliTerms(result);
    }

    [Fact]
    public async Task Truncate_DirIsAFile_SaysItIsAFile()
    {
        var file = Path.Combine(_log.Root, "not-a-directory");
        await File.WriteAllTextAsync(file, "x");
        var result = await Truthdb.RunAsync(["truncate", "--dir", file, "--before", "5", "--yes"], [], Timeouts.Token());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is a file, not a log directory", result.Stderr);
    }

    [Fact]
    public async Task Read_DamagedRecord_NamesTheDamageInWordsAndPointsToVerify()
    {
        await _log.AppendAsync(10);
        var victim = _log.Frame(5);
        _log.FlipBit(victim.Segment, victim.Offset + 30);

        var result = await Truthdb.RunAsync(["read", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("truthdb verify", result.Stderr);
        AssertInCliTerms(result);
    }

    // No .NET type, parameter or enum names reach the user.
    private static void AssertInCliTerms(CliResult result)
    {
        foreach (var leak in new[] { "System.", "(Parameter '", "Exception", "WalOptions", "ReadOptions", "ChecksumMismatch", "Required command was not provided", "expected type" })
        {
            Assert.DoesNotContain(leak, result.Stderr);
        }
    }
}
