using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

/// <summary><c>--count</c> and <c>--to</c> on <c>read</c> and <c>tail</c>.</summary>
public sealed class ReadLimitTests : IDisposable
{
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Tail_To_WaitsForThatRecordThenExits()
    {
        await Truthdb.RunAsync(["append", "--dir", _log.Dir], "a\nb\nc\n", Timeouts.Token());
        await using var tail = Truthdb.Start(["tail", "--dir", _log.Dir, "--to", "5"]);
        await tail.WaitForOutputAsync(o => o.Contains("3\tc\n", StringComparison.Ordinal), Timeouts.Token());

        await Truthdb.RunAsync(["append", "--dir", _log.Dir], "d\ne\nf\n", Timeouts.Token());
        var result = await tail.WaitAsync(Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("1\ta\n2\tb\n3\tc\n4\td\n5\te\n", result.Stdout);
    }

    [Fact]
    public async Task Tail_Count_ExitsAfterThatManyRecords()
    {
        await Truthdb.RunAsync(["append", "--dir", _log.Dir], "a\n", Timeouts.Token());
        await using var tail = Truthdb.Start(["tail", "--dir", _log.Dir, "--count", "2", "--format", "hex"]);
        await tail.WaitForOutputAsync(o => o.Contains("1\t61\n", StringComparison.Ordinal), Timeouts.Token());

        await Truthdb.RunAsync(["append", "--dir", _log.Dir], "b\nc\n", Timeouts.Token());
        var result = await tail.WaitAsync(Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("1\t61\n2\t62\n", result.Stdout);
    }

    [Fact]
    public async Task Read_ToBeyondTheEnd_EndsAtTheEndOfTheLog()
    {
        await Truthdb.RunAsync(["append", "--dir", _log.Dir], "a\nb\n", Timeouts.Token());
        var result = await Truthdb.RunAsync(["read", "--dir", _log.Dir, "--to", "100"], [], Timeouts.Token());
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("1\ta\n2\tb\n", result.Stdout);
    }

    [Fact]
    public async Task Read_CursorWithCount_CommitsTheLastRecordPrinted()
    {
        await Truthdb.RunAsync(["append", "--dir", _log.Dir], "a\nb\nc\nd\n", Timeouts.Token());
        var first = await Truthdb.RunAsync(["read", "--dir", _log.Dir, "--cursor", "k", "--commit", "--count", "3"], [], Timeouts.Token());
        Assert.Equal("1\ta\n2\tb\n3\tc\n", first.Stdout);
        Assert.Contains("committed cursor 'k' at LSN 3", first.Stderr);
        var rest = await Truthdb.RunAsync(["read", "--dir", _log.Dir, "--cursor", "k"], [], Timeouts.Token());
        Assert.Equal("4\td\n", rest.Stdout);
    }
}
