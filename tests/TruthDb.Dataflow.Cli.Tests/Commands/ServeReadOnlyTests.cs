using System.Text;
using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

/// <summary>
/// <c>truthdb serve --read-only</c> as a user runs it: beside the log's writer (which holds the lock),
/// the verbs with <c>--socket</c> read and tail as on the directory, writes are refused in the CLI's
/// words, the directory is not changed by the server, and what cannot go with it is refused.
/// </summary>
public sealed class ServeReadOnlyTests : IDisposable
{
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task ServeReadOnly_BesideTheWriter_ReadsTailsAndRefusesWrites()
    {
        var ct = Timeouts.Token();
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = _log.Dir, SegmentSize = 64 * 1024 });
        await AppendAsync(wal, 1, 100, ct);
        await using var server = await ServedLog.StartAsync(_log, ["--read-only"]);
        Assert.Contains($"truthdb: serving {_log.Dir} read-only (log {wal.LogId:N}, LSN 1..100, a writer has it open)", server.Stderr, StringComparison.Ordinal);

        foreach (var read in new[] { new[] { "read" }, ["read", "--format", "hex", "--from", "60"], ["tail", "--from", "90", "--to", "100"] })
        {
            var fromDirectory = await Truthdb.RunAsync([.. read, "--dir", _log.Dir], [], ct);
            var fromSocket = await Truthdb.RunAsync([.. read, "--socket", server.Socket], [], ct);
            Assert.True(fromSocket.ExitCode == 0, string.Join(' ', read) + ": " + fromSocket);
            Assert.Equal(fromDirectory.Stdout, fromSocket.Stdout);
        }

        // A tail through the server sees what the writer appends afterwards.
        await using (var tail = Truthdb.Start(["tail", "--socket", server.Socket, "--from", "101", "--to", "130"]))
        {
            await AppendAsync(wal, 101, 130, ct);
            var tailed = await tail.WaitAsync(ct);
            Assert.True(tailed.ExitCode == 0, tailed.ToString());
            Assert.Equal(Enumerable.Range(101, 30).Select(i => $"{i}\t{Line(i)}"), tailed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        var stats = await Truthdb.RunAsync(["stats", "--socket", server.Socket], [], ct);
        Assert.Contains("read-only: it writes nothing", stats.Stdout, StringComparison.Ordinal);
        Assert.Contains("last LSN:          130 (written watermark)", stats.Stdout, StringComparison.Ordinal);
        var json = await Truthdb.RunAsync(["stats", "--socket", server.Socket, "--json"], [], ct);
        Assert.Contains("\"readOnly\":true", json.Stdout, StringComparison.Ordinal);

        var before = _log.FileHashes();
        var append = await Truthdb.RunAsync(["append", "--socket", server.Socket], "refused\n", ct);
        var commit = await Truthdb.RunAsync(["read", "--socket", server.Socket, "--cursor", "job", "--commit", "--to", "5"], [], ct);
        var truncate = await Truthdb.RunAsync(["truncate", "--socket", server.Socket, "--before", "50", "--yes"], [], ct);

        Assert.True(append.ExitCode == 1, append.ToString());
        Assert.Contains("This server serves a read-only replica: appends go to the log's writer. Its server was started with 'truthdb serve --read-only'", append.Stderr, StringComparison.Ordinal);
        Assert.True(commit.ExitCode == 1, commit.ToString());
        Assert.Contains("cursor commits go to the log's writer", commit.Stderr, StringComparison.Ordinal);
        Assert.True(truncate.ExitCode == 1, truncate.ToString());
        Assert.Contains("truncations go to the log's writer", truncate.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, _log.FileHashes());
        Assert.Equal((130L, 1L), (wal.WrittenLsn, wal.FirstLsn));
        Assert.Empty(wal.Cursors);

        Assert.Equal(0, await server.StopAsync());
        Assert.Contains("truthdb: stopped; served read-only up to LSN 130, nothing written", server.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--durability", "written")]
    [InlineData("--segment-size", "1MiB")]
    [InlineData("--retention-max-bytes", "1GiB")]
    [InlineData("--retention-max-age", "7d")]
    [InlineData("--retention-ignores-cursors", null)]
    public async Task ServeReadOnly_WithAnOptionOfTheWriter_ExitsTwoNamingIt(string option, string? value)
    {
        string[] args = ["serve", "--dir", _log.Dir, "--socket", Path.Combine(_log.Root, "s.sock"), "--read-only", option, .. value is null ? Array.Empty<string>() : [value]];

        var result = await Truthdb.RunAsync(args, [], Timeouts.Token());

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"{option} cannot be used with --read-only: it is an option of the log's writer", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_log.Dir));
    }

    [Fact]
    public async Task ServeReadOnly_DirectoryWithoutALog_ExitsOneAndCreatesNothing()
    {
        var socket = Path.Combine(_log.Root, "s.sock");
        var missing = await Truthdb.RunAsync(["serve", "--dir", _log.Dir, "--socket", socket, "--read-only"], [], Timeouts.Token());
        Directory.CreateDirectory(_log.Dir);
        var empty = await Truthdb.RunAsync(["serve", "--dir", _log.Dir, "--socket", socket, "--read-only"], [], Timeouts.Token());

        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains($"The log directory '{_log.Dir}' does not exist.", missing.Stderr, StringComparison.Ordinal);
        Assert.True(empty.ExitCode == 1, empty.ToString());
        Assert.Contains($"There is no log in '{_log.Dir}' (no segment files).", empty.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_log.Dir));
        Assert.False(File.Exists(socket));
    }

    private static string Line(int lsn) => $"line {lsn} " + new string('r', lsn % 50);

    private static async Task AppendAsync(Wal wal, int from, int to, CancellationToken ct)
    {
        for (var lsn = from; lsn <= to; lsn++)
        {
            Assert.Equal(lsn, await wal.AppendAsync(Encoding.UTF8.GetBytes(Line(lsn)), ct));
        }
    }
}
