using System.Text;
using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

public sealed class RetentionCursorTests : IDisposable
{
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Truncate_AsksForYes_ThenDropsSealedSegments_AndVerifyStaysClean()
    {
        var lines = string.Join('\n', Enumerable.Range(0, 600).Select(i => $"record {i} " + new string('x', 300)));
        Assert.Equal(0, (await Truthdb.RunAsync(["append", "-d", _log.Dir, "--segment-size", "64KiB"], lines, Timeouts.Token())).ExitCode);

        var dry = await Truthdb.RunAsync(["truncate", "-d", _log.Dir, "--before", "400"], [], Timeouts.Token());
        Assert.Equal(2, dry.ExitCode);
        Assert.Contains("Run again with --yes", dry.Stdout);
        Assert.True(File.Exists(Path.Combine(_log.Dir, "00000000000000000001.wal")));

        var real = await Truthdb.RunAsync(["truncate", "-d", _log.Dir, "--before", "400", "--yes"], [], Timeouts.Token());
        Assert.Equal(0, real.ExitCode);
        Assert.Contains("the log now starts at LSN", real.Stdout);
        Assert.False(File.Exists(Path.Combine(_log.Dir, "00000000000000000001.wal")));

        var read = await Truthdb.RunAsync(["read", "-d", _log.Dir], [], Timeouts.Token());
        Assert.Equal(0, read.ExitCode);
        Assert.EndsWith($"600\trecord 599 {new string('x', 300)}\n", read.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await Truthdb.RunAsync(["verify", "-d", _log.Dir], [], Timeouts.Token())).ExitCode);
    }

    [Fact]
    public async Task Read_WithCursorAndCommit_ResumesAfterWhatWasPrinted()
    {
        await Truthdb.RunAsync(["append", "-d", _log.Dir, "--segment-size", "64KiB"], "a\nb\nc\n", Timeouts.Token());
        var first = await Truthdb.RunAsync(["read", "-d", _log.Dir, "--cursor", "job", "--commit"], [], Timeouts.Token());
        Assert.Equal("1\ta\n2\tb\n3\tc\n", first.Stdout);
        Assert.Contains("committed cursor 'job' at LSN 3", first.Stderr);

        await Truthdb.RunAsync(["append", "-d", _log.Dir], "d\n", Timeouts.Token());
        var second = await Truthdb.RunAsync(["read", "-d", _log.Dir, "--cursor", "job"], [], Timeouts.Token());
        Assert.Equal("4\td\n", second.Stdout);
        var stats = await Truthdb.RunAsync(["stats", "-d", _log.Dir], [], Timeouts.Token());
        Assert.Contains("cursor job: committed LSN 3", stats.Stdout);

        var bad = await Truthdb.RunAsync(["read", "-d", _log.Dir, "--cursor", "job", "--from", "2"], [], Timeouts.Token());
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--cursor and --from cannot be used together", bad.Stderr);
        var badName = await Truthdb.RunAsync(["read", "-d", _log.Dir, "--cursor", "no spaces"], Encoding.UTF8.GetBytes(string.Empty), Timeouts.Token());
        Assert.NotEqual(0, badName.ExitCode);
        Assert.Contains("is not a valid cursor name", badName.Stderr);
    }

    [Fact]
    public async Task Read_WithCursorAndCommit_WhileAnotherProcessWrites_CommitsWithoutTheWriterLock()
    {
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = _log.Dir });
        foreach (var text in new[] { "a", "b", "c" })
        {
            await wal.AppendAsync(Encoding.UTF8.GetBytes(text));
        }

        var read = await Truthdb.RunAsync(["read", "-d", _log.Dir, "--cursor", "job", "--commit"], [], Timeouts.Token());
        Assert.Equal(0, read.ExitCode);
        Assert.Equal("1\ta\n2\tb\n3\tc\n", read.Stdout);
        Assert.Equal(3, wal.GetCursor("job"));

        await wal.AppendAsync(Encoding.UTF8.GetBytes("d"));
        var resumed = await Truthdb.RunAsync(["read", "-d", _log.Dir, "--cursor", "job"], [], Timeouts.Token());
        Assert.Equal("4\td\n", resumed.Stdout);
    }
}
