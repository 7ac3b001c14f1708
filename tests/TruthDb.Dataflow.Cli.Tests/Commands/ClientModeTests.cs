using System.Text.Json;
using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

/// <summary>The verbs with <c>--socket</c>, against a real <c>truthdb serve</c>: the same output and exit codes as on the directory.</summary>
public sealed class ClientModeTests : IDisposable
{
    private readonly LogDirectory _direct = new();
    private readonly LogDirectory _served = new();

    public void Dispose()
    {
        _direct.Dispose();
        _served.Dispose();
    }

    [Fact]
    public async Task AppendAndRead_ThroughSocket_PrintTheSameAsThroughDirectory()
    {
        var input = LogDirectory.Lines(50, length: 100);
        await using var server = await ServedLog.StartAsync(_served);

        var direct = await Truthdb.RunAsync(["append", "--dir", _direct.Dir], input, Timeouts.Token());
        var served = await Truthdb.RunAsync(["append", "--socket", server.Socket], input, Timeouts.Token());
        Assert.True(served.ExitCode == 0, served.ToString());
        Assert.Equal(direct.Stdout, served.Stdout);
        Assert.Contains("appended 50 records: LSN 1..50 (durable)", served.Stdout);

        // --durability written: the directory's log is synced when append closes it, the server's by its own sync.
        direct = await Truthdb.RunAsync(["append", "--dir", _direct.Dir, "--durability", "written"], "one more\n", Timeouts.Token());
        served = await Truthdb.RunAsync(["append", "--socket", server.Socket, "--durability", "written"], "one more\n", Timeouts.Token());
        Assert.Equal("appended 1 record: LSN 51..51 (durable)\n", direct.Stdout);
        Assert.Equal(direct.Stdout, served.Stdout);

        string[][] reads =
        [
            ["read"],
            ["read", "--format", "hex"],
            ["read", "--format", "json", "--from", "7"],
            ["read", "--from", "10", "--count", "5"],
            ["read", "--to", "3"],
            ["tail", "--from", "40", "--to", "45"],
            ["tail", "--count", "2"],
        ];
        foreach (var read in reads)
        {
            var fromDirectory = await Truthdb.RunAsync([.. read, "--dir", _direct.Dir], [], Timeouts.Token());
            var fromSocket = await Truthdb.RunAsync([.. read, "--socket", server.Socket], [], Timeouts.Token());
            Assert.True(fromSocket.ExitCode == 0, string.Join(' ', read) + ": " + fromSocket);
            Assert.Equal(fromDirectory.ExitCode, fromSocket.ExitCode);
            Assert.Equal(fromDirectory.Stdout, fromSocket.Stdout);
        }

        var counted = await Truthdb.RunAsync(["read", "--socket", server.Socket, "--from", "10", "--count", "5"], [], Timeouts.Token());
        Assert.Equal(["10", "11", "12", "13", "14"], counted.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]));
    }

    [Fact]
    public async Task Cursor_ThroughSocket_CommitsAndResumes()
    {
        await using var server = await ServedLog.StartAsync(_served);
        await Truthdb.RunAsync(["append", "--socket", server.Socket], LogDirectory.Lines(20, length: 50), Timeouts.Token());

        var first = await Truthdb.RunAsync(["read", "--socket", server.Socket, "--cursor", "c", "--commit", "--to", "10"], [], Timeouts.Token());
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(10, first.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("committed cursor 'c' at LSN 10", first.Stderr);

        var next = await Truthdb.RunAsync(["tail", "--socket", server.Socket, "--cursor", "c", "--count", "3"], [], Timeouts.Token());
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.StartsWith("11\t", next.Stdout, StringComparison.Ordinal);
        Assert.Equal(3, next.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // The commit is the server's log's: stats on the directory (read-only, beside the server) sees it.
        var stats = await Truthdb.RunAsync(["stats", "--dir", _served.Dir], [], Timeouts.Token());
        Assert.Contains("cursor c: committed LSN 10", stats.Stdout);
    }

    [Fact]
    public async Task Tail_ThroughSocket_FollowsNewRecordsAndCommitsOnCtrlC()
    {
        await using var server = await ServedLog.StartAsync(_served);
        await Truthdb.RunAsync(["append", "--socket", server.Socket], "a\nb\n", Timeouts.Token());
        await using var tail = Truthdb.Start(["tail", "--socket", server.Socket, "--cursor", "t", "--commit"]);
        await tail.WaitForOutputAsync(o => o.Contains("2\tb\n", StringComparison.Ordinal), Timeouts.Token());

        await Truthdb.RunAsync(["append", "--socket", server.Socket], "c\n", Timeouts.Token());
        await tail.WaitForOutputAsync(o => o.Contains("3\tc\n", StringComparison.Ordinal), Timeouts.Token());
        await tail.InterruptAsync(Timeouts.Token());
        var result = await tail.WaitAsync(Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("1\ta\n2\tb\n3\tc\n", result.Stdout);
        Assert.Contains("committed cursor 't' at LSN 3", result.Stderr);

        var after = await Truthdb.RunAsync(["read", "--socket", server.Socket, "--cursor", "t"], [], Timeouts.Token());
        Assert.Equal(string.Empty, after.Stdout);
    }

    [Fact]
    public async Task Truncate_ThroughSocket_DropsSegmentsUpToTheSlowestCursor()
    {
        await using var server = await ServedLog.StartAsync(_served, ["--segment-size", "128KiB"]);
        var append = await Truthdb.RunAsync(["append", "--socket", server.Socket], LogDirectory.Lines(400), Timeouts.Token());
        Assert.True(append.ExitCode == 0, append.ToString());
        var segments = _served.Segments().Length;
        Assert.True(segments >= 3, $"{segments} segments");
        await Truthdb.RunAsync(["read", "--socket", server.Socket, "--cursor", "c", "--commit", "--to", "100"], [], Timeouts.Token());

        var dryRun = await Truthdb.RunAsync(["truncate", "--socket", server.Socket, "--before", "300"], [], Timeouts.Token());
        Assert.Equal(2, dryRun.ExitCode);
        Assert.Contains("Run again with --yes", dryRun.Stdout);

        // The cursor still needs LSN 101: retention stops at the segment holding it.
        var held = await Truthdb.RunAsync(["truncate", "--socket", server.Socket, "--before", "300", "--yes"], [], Timeouts.Token());
        Assert.True(held.ExitCode == 0, held.ToString());
        var heldFirst = FirstLsn(await Truthdb.RunAsync(["stats", "--socket", server.Socket, "--json"], [], Timeouts.Token()));
        Assert.InRange(heldFirst, 2, 101);
        Assert.Contains($"Dropped LSNs 1 to {heldFirst - 1}; the log now starts at LSN {heldFirst}.", held.Stdout);
        var afterHeld = _served.Segments().Length;
        Assert.True(afterHeld < segments);

        await Truthdb.RunAsync(["read", "--socket", server.Socket, "--cursor", "c", "--commit", "--to", "300"], [], Timeouts.Token());
        var dropped = await Truthdb.RunAsync(["truncate", "--socket", server.Socket, "--before", "300", "--yes"], [], Timeouts.Token());
        Assert.True(dropped.ExitCode == 0, dropped.ToString());
        var first = FirstLsn(await Truthdb.RunAsync(["stats", "--socket", server.Socket, "--json"], [], Timeouts.Token()));
        Assert.InRange(first, 102, 300);
        Assert.Contains($"Dropped LSNs {heldFirst} to {first - 1}; the log now starts at LSN {first}.", dropped.Stdout);
        Assert.True(_served.Segments().Length < afterHeld);

        // Reading what retention dropped: a failure in the CLI's words, the same through either path.
        var gone = await Truthdb.RunAsync(["read", "--socket", server.Socket, "--from", "1"], [], Timeouts.Token());
        var goneDirect = await Truthdb.RunAsync(["read", "--dir", _served.Dir, "--from", "1"], [], Timeouts.Token());
        Assert.Equal(1, gone.ExitCode);
        Assert.Equal(1, goneDirect.ExitCode);
        Assert.Contains("--from 0", gone.Stderr);
        Assert.Equal(goneDirect.Stderr, gone.Stderr);
        Assert.DoesNotContain("ReadOptions", gone.Stderr);
        Assert.DoesNotContain("Parameter", gone.Stderr);

        var ignore = await Truthdb.RunAsync(["truncate", "--socket", server.Socket, "--before", "350", "--yes", "--ignore-cursors"], [], Timeouts.Token());
        Assert.Equal(2, ignore.ExitCode);
        Assert.Contains("--retention-ignores-cursors", ignore.Stderr);
    }

    private static long FirstLsn(CliResult stats) => JsonDocument.Parse(stats.Stdout).RootElement.GetProperty("firstLsn").GetInt64();

    [Fact]
    public async Task Stats_ThroughSocket_PrintsOneJsonObjectWithTheDirectorysLogId()
    {
        await using var server = await ServedLog.StartAsync(_served);
        await Truthdb.RunAsync(["append", "--socket", server.Socket], LogDirectory.Lines(10, length: 20), Timeouts.Token());

        var served = await Truthdb.RunAsync(["stats", "--socket", server.Socket, "--json"], [], Timeouts.Token());
        var direct = await Truthdb.RunAsync(["stats", "--dir", _served.Dir, "--json"], [], Timeouts.Token());
        Assert.True(served.ExitCode == 0, served.ToString());
        Assert.Single(served.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var s = JsonDocument.Parse(served.Stdout).RootElement;
        var d = JsonDocument.Parse(direct.Stdout).RootElement;
        Assert.Equal("socket", s.GetProperty("source").GetString());
        Assert.Matches("^[0-9a-f]{32}$", s.GetProperty("logId").GetString());
        Assert.Equal(d.GetProperty("logId").GetString(), s.GetProperty("logId").GetString());
        Assert.Equal(1, s.GetProperty("firstLsn").GetInt64());
        Assert.Equal(10, s.GetProperty("writtenLsn").GetInt64());
        Assert.Equal(10, s.GetProperty("lastLsn").GetInt64());
        Assert.Equal(10, s.GetProperty("durableLsn").GetInt64());
        Assert.Equal(10, s.GetProperty("appends").GetInt64());
        Assert.Equal(10, d.GetProperty("lastLsn").GetInt64());

        // Text: the log id prints the same way as in the directory's stats and the server's status line.
        var text = await Truthdb.RunAsync(["stats", "--socket", server.Socket], [], Timeouts.Token());
        var id = s.GetProperty("logId").GetString()!;
        Assert.Contains("log id:            " + id, text.Stdout);
        Assert.Contains("durable LSN:       10", text.Stdout);
        Assert.Contains("log id:            " + id, (await Truthdb.RunAsync(["stats", "--dir", _served.Dir], [], Timeouts.Token())).Stdout);
        Assert.Contains("(log " + id + ",", server.Stderr);
    }

    [Fact]
    public async Task Socket_NobodyListening_FailsWithExitOne()
    {
        var socket = Path.Combine(_served.Root, "none.sock");
        foreach (var verb in new[] { "read", "tail", "stats" })
        {
            var result = await Truthdb.RunAsync([verb, "--socket", socket], [], Timeouts.Token());
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains($"Nothing listens on '{socket}'", result.Stderr);
        }

        var append = await Truthdb.RunAsync(["append", "--socket", socket], "x\n", Timeouts.Token());
        Assert.Equal(1, append.ExitCode);
        Assert.Contains("truthdb serve", append.Stderr);

        var truncate = await Truthdb.RunAsync(["truncate", "--socket", socket, "--before", "5", "--yes"], [], Timeouts.Token());
        Assert.Equal(1, truncate.ExitCode);
    }

    [Fact]
    public async Task Token_WrongOrMissing_IsRefusedWithExitOne_RightOneWorks()
    {
        var secret = new Dictionary<string, string> { ["TRUTHDB_TOKEN"] = "s3cret" };
        await using var server = await ServedLog.StartAsync(_served, environment: secret);
        var wrong = Path.Combine(_served.Root, "wrong.token");
        var right = Path.Combine(_served.Root, "right.token");
        await File.WriteAllTextAsync(wrong, "guess\n");
        await File.WriteAllTextAsync(right, "s3cret\n");

        var none = await Truthdb.RunAsync(["stats", "--socket", server.Socket], [], Timeouts.Token());
        Assert.True(none.ExitCode == 1, none.ToString());
        Assert.Contains("refused the token", none.Stderr);
        Assert.Contains("(none was given)", none.Stderr);

        var bad = await Truthdb.RunAsync(["append", "--socket", server.Socket, "--token-file", wrong], "x\n", Timeouts.Token());
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("refused the token", bad.Stderr);

        var byFile = await Truthdb.RunAsync(["append", "--socket", server.Socket, "--token-file", right], "x\n", Timeouts.Token());
        Assert.True(byFile.ExitCode == 0, byFile.ToString());
        var byEnvironment = await Truthdb.RunAsync(["read", "--socket", server.Socket], secret, [], Timeouts.Token());
        Assert.Equal(0, byEnvironment.ExitCode);
        Assert.Equal("1\tx\n", byEnvironment.Stdout);

        var missing = await Truthdb.RunAsync(["stats", "--socket", server.Socket, "--token-file", Path.Combine(_served.Root, "nope")], [], Timeouts.Token());
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--token-file", missing.Stderr);
    }

    [Fact]
    public async Task SocketVariable_StandsForSocket_WhenNoDirIsGiven()
    {
        await using var server = await ServedLog.StartAsync(_served);
        var environment = new Dictionary<string, string> { ["TRUTHDB_SOCKET"] = server.Socket };
        var append = await Truthdb.RunAsync(["append"], environment, "a\nb\n"u8.ToArray(), Timeouts.Token());
        Assert.True(append.ExitCode == 0, append.ToString());
        Assert.Contains("appended 2 records: LSN 1..2 (durable)", append.Stdout);
        Assert.Equal("1\ta\n2\tb\n", (await Truthdb.RunAsync(["read"], environment, [], Timeouts.Token())).Stdout);

        // --dir wins over the variable: the directory's own log, read without the server.
        var direct = await Truthdb.RunAsync(["read", "--dir", _served.Dir], environment, [], Timeouts.Token());
        Assert.Equal("1\ta\n2\tb\n", direct.Stdout);
    }

    [Theory]
    [InlineData(new[] { "read", "--dir", "x", "--socket", "y" }, "--dir and --socket cannot be used together")]
    [InlineData(new[] { "stats" }, "Give --dir PATH")]
    [InlineData(new[] { "append", "--dir", "x", "--token-file", "t" }, "--token-file goes with --socket")]
    public async Task Target_BadCombination_ExitsWithUsageCode(string[] args, string expected)
    {
        var result = await Truthdb.RunAsync(args, new Dictionary<string, string> { ["TRUTHDB_SOCKET"] = string.Empty }, [], Timeouts.Token());
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(expected, result.Stderr);
    }

    [Fact]
    public async Task Append_DirOfAServedLog_FailsPointingToTheSocket()
    {
        await using var server = await ServedLog.StartAsync(_served);
        var result = await Truthdb.RunAsync(["append", "--dir", _served.Dir], "x\n", Timeouts.Token());
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("already open by another writer", result.Stderr);
        Assert.Contains("--socket", result.Stderr);
    }

    [Fact]
    public async Task Append_DirOnlyOptionsWithSocket_ExitWithUsageCode()
    {
        await using var server = await ServedLog.StartAsync(_served);
        var result = await Truthdb.RunAsync(["append", "--socket", server.Socket, "--segment-size", "1MiB"], "x\n", Timeouts.Token());
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--segment-size cannot be used with --socket", result.Stderr);
        Assert.Equal(0, (await Truthdb.RunAsync(["read", "--socket", server.Socket], [], Timeouts.Token())).Stdout.Length);
    }

    [Fact]
    public async Task Serve_RetentionMaxBytes_DropsOldSegmentsAsTheLogGrows()
    {
        await using var server = await ServedLog.StartAsync(_served, ["--segment-size", "128KiB", "--retention-max-bytes", "256KiB"]);
        Assert.Contains("retention at most 256 KiB", server.Stderr);
        var append = await Truthdb.RunAsync(["append", "--socket", server.Socket], LogDirectory.Lines(800), Timeouts.Token());
        Assert.True(append.ExitCode == 0, append.ToString());

        var stats = JsonDocument.Parse((await Truthdb.RunAsync(["stats", "--socket", server.Socket, "--json"], [], Timeouts.Token())).Stdout).RootElement;
        Assert.True(stats.GetProperty("firstLsn").GetInt64() > 1, stats.ToString());
        Assert.Equal(800, stats.GetProperty("writtenLsn").GetInt64());
    }

    [Theory]
    [InlineData(new[] { "--segment-size", "128KiB", "--retention-max-bytes", "100KiB" }, "--retention-max-bytes is 102,400 bytes; it must be 0 (keep everything) or from twice --segment-size")]
    [InlineData(new[] { "--retention-max-age", "5 weeks" }, "--retention-max-age: '5 weeks' is not a duration")]
    [InlineData(new[] { "--retention-max-bytes", "lots" }, "--retention-max-bytes: 'lots' is not a size")]
    public async Task Serve_BadRetention_ExitsWithUsageCodeNamingTheFlag(string[] options, string expected)
    {
        var result = await Truthdb.RunAsync(["serve", "--dir", _served.Dir, "--socket", Path.Combine(_served.Root, "s.sock"), .. options], [], Timeouts.Token());
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(expected, result.Stderr);
        Assert.DoesNotContain("WalOptions", result.Stderr);
    }
}
