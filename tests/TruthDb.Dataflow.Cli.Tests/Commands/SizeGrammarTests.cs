using TruthDb.Dataflow.Cli.Tests.Support;
using TruthDb.Dataflow.Hosting;
using TruthDb.Dataflow.Inspection;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

/// <summary>
/// A size means the same on the command line as in configuration: the segment size <c>truthdb</c>
/// writes into the segment header for a <c>--segment-size</c> is what the configuration layer's
/// parser makes of the same text, and what one refuses the other refuses.
/// </summary>
public sealed class SizeGrammarTests : IDisposable
{
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData("1.5MiB", 1_572_864)]
    [InlineData("64MB", 64_000_000)]
    [InlineData("256 KiB", 262_144)]
    [InlineData("1048576", 1_048_576)]
    [InlineData("2mi", 2_097_152)]
    public async Task SegmentSize_SameTextAsConfiguration_SameBytes(string text, long bytes)
    {
        Assert.True(WalConfiguration.TryParseSize(text, out var configured));
        Assert.Equal(bytes, configured);

        var result = await Truthdb.RunAsync(["append", "--dir", _log.Dir, "--segment-size", text], "x\n", Timeouts.Token());

        Assert.True(result.ExitCode == 0, result.ToString());
        var segment = Assert.Single(LogInspector.GetStats(_log.Dir).Segments);
        Assert.Equal(configured, segment.SegmentSize);
    }

    [Theory]
    [InlineData("1M")]
    [InlineData("64K")]
    [InlineData("1.5")]
    [InlineData("lots")]
    public async Task SegmentSize_TextConfigurationRefuses_RefusedWithExitTwo(string text)
    {
        Assert.False(WalConfiguration.TryParseSize(text, out _));

        var result = await Truthdb.RunAsync(["append", "--dir", _log.Dir, "--segment-size", text], "x\n", Timeouts.Token());

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"--segment-size: '{text}' is not a size", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_log.Dir) && Directory.EnumerateFileSystemEntries(_log.Dir).Any(), "nothing is created for a refused argument");
    }
}

/// <summary>
/// A duration means the same on the command line as in configuration (a bare number aside: the
/// command line's duration options always took seconds, configuration refuses it).
/// </summary>
public sealed class DurationGrammarTests : IDisposable
{
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData("300ms")]
    [InlineData("0.3s")]
    [InlineData("00:00:00.3")]
    public async Task Duration_SameTextAsConfiguration_Accepted(string text)
    {
        Assert.True(WalConfiguration.TryParseDuration(text, out var configured));
        Assert.Equal(TimeSpan.FromMilliseconds(300), configured);

        var result = await Truthdb.RunAsync(["bench", "--dir", _log.Dir, "--duration", text, "--producers", "1", "--segment-size", "1MiB"], [], Timeouts.Token());

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task Duration_BareNumber_SecondsOnTheCommandLineRefusedInConfiguration()
    {
        Assert.False(WalConfiguration.TryParseDuration("0.3", out _));

        var result = await Truthdb.RunAsync(["bench", "--dir", _log.Dir, "--duration", "0.3", "--producers", "1", "--segment-size", "1MiB"], [], Timeouts.Token());

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Theory]
    [InlineData("5x", "--duration: '5x' is not a duration")]
    [InlineData("0", "--duration is 0ms; it must be 1ms to 1d.")]
    [InlineData("2d", "--duration is 2d; it must be 1ms to 1d.")]
    public async Task Duration_BadOrOutOfRange_ExitsTwoNamingTheFlag(string text, string message)
    {
        var result = await Truthdb.RunAsync(["bench", "--dir", _log.Dir, "--duration", text], [], Timeouts.Token());

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_log.Dir), "nothing is created for a refused argument");
    }
}
