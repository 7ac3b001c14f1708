using System.Text;
using System.Text.RegularExpressions;
using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

/// <summary>
/// The read-only verbs (read, read --cursor, tail, dump, verify, stats) change no byte of the log
/// directory and create or remove no file, whatever state it is in; and the verbs that open a log for
/// writing say what recovery truncated.
/// </summary>
public sealed partial class ReadOnlyVerbTests : IDisposable
{
    private const int Records = 130;
    private readonly LogDirectory _log = new();

    public static TheoryData<string> States => ["clean", "torn", "damaged", "no-mirror", "writer-live", "writer-killed"];

    [Theory]
    [MemberData(nameof(States))]
    public async Task ReadOnlyVerbs_AnyState_ChangeNoByteOfTheDirectory(string state)
    {
        await _log.AppendAsync(Records);
        var committed = await Truthdb.RunAsync(["read", "--dir", _log.Dir, "--cursor", "job", "--commit"], [], Timeouts.Token());
        Assert.True(committed.ExitCode == 0, committed.ToString());
        await using var writer = await PrepareAsync(state);
        var last = state is "writer-live" or "writer-killed" ? Records + 5 : Records;
        var before = _log.FileHashes();

        foreach (var args in new[]
        {
            new[] { "read", "--dir", _log.Dir },
            ["read", "--dir", _log.Dir, "--written"],
            ["read", "--dir", _log.Dir, "--cursor", "job"],
            ["dump", "--dir", _log.Dir],
            ["verify", "--dir", _log.Dir],
            ["stats", "--dir", _log.Dir],
        })
        {
            var result = await Truthdb.RunAsync(args, [], Timeouts.Token());
            Assert.True(before.SequenceEqual(_log.FileHashes()), $"'truthdb {string.Join(' ', args)}' changed the directory ({state}):\n{result}");
            if (args[0] == "read" && args.Length == 3)
            {
                CheckRead(state, result, last);
            }
            else if (args[0] is "dump" or "stats")
            {
                Assert.True(result.ExitCode == 0, result.ToString());
            }
        }

        var tail = await TailAsync(state, last);
        Assert.True(before.SequenceEqual(_log.FileHashes()), $"'truthdb tail' changed the directory ({state}):\n{tail}");
        if (writer is not null)
        {
            await writer.WriteStdinAsync([], Timeouts.Token());
            var done = await writer.WaitAsync(Timeouts.Token());
            Assert.True(done.ExitCode == 0, done.ToString());
        }
    }

    [Fact]
    public async Task Read_CursorCommitOnAPlainCopy_WritesOnlyTheCursorFile()
    {
        await _log.AppendAsync(10);
        KeepOnlySegments();
        var before = _log.FileHashes();

        var result = await Truthdb.RunAsync(["read", "--dir", _log.Dir, "--cursor", "job", "--commit"], [], Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("committed cursor 'job' at LSN 10", result.Stderr);
        var after = _log.FileHashes();
        var added = after.Except(before).ToList();
        Assert.Single(added);
        Assert.StartsWith("cursor-job", added[0].Name, StringComparison.Ordinal);
        Assert.Empty(before.Except(after));
    }

    [Fact]
    public async Task Append_OnATornLog_PrintsWhatRecoveryTruncated()
    {
        await _log.AppendAsync(10);
        var (segment, end) = Tear();
        using var copy = new LogDirectory();
        CopyTo(copy.Dir);

        var quiet = await Truthdb.RunAsync(["append", "--dir", _log.Dir], "one\n", Timeouts.Token());
        Assert.True(quiet.ExitCode == 0, quiet.ToString());
        Assert.Contains("warning:", quiet.Stderr);
        Assert.Contains($"'{segment}'", quiet.Stderr);
        Assert.Contains($"offset {end}", quiet.Stderr);
        Assert.Matches(TornBytes(), quiet.Stderr);
        Assert.Matches(TornLsns(), quiet.Stderr);
        Assert.DoesNotContain("Opened the log", quiet.Stderr);
        Assert.Contains("LSN 11..11", quiet.Stdout);

        var verbose = await Truthdb.RunAsync(["append", "--dir", copy.Dir, "--verbose"], "one\n", Timeouts.Token());
        Assert.True(verbose.ExitCode == 0, verbose.ToString());
        Assert.Contains($"offset {end}", verbose.Stderr);
        Assert.Contains("Opened the log", verbose.Stderr);
        Assert.Contains("Closed the log", verbose.Stderr);
    }

    [Fact]
    public async Task Append_OnACleanLog_PrintsNothingOnStderr()
    {
        await _log.AppendAsync(3);
        var result = await Truthdb.RunAsync(["append", "--dir", _log.Dir], "four\n", Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(string.Empty, result.Stderr);
    }

    public void Dispose() => _log.Dispose();

    // "dropped 10 bytes": the garbage Tear wrote; "LSNs 11 to 11" or "LSN 11": the record it would have held.
    [GeneratedRegex(@"\b10 bytes\b")]
    private static partial Regex TornBytes();

    [GeneratedRegex(@"LSNs? 11\b")]
    private static partial Regex TornLsns();

    private static void CheckRead(string state, CliResult result, long last)
    {
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        switch (state)
        {
            case "torn":
                // Every record, then a clear stop: no writer says whether the bytes after it were acknowledged.
                Assert.True(result.ExitCode == 1, result.ToString());
                Assert.Equal(last, lines.Length);
                Assert.Contains($"cannot be read past LSN {last}", result.Stderr);
                Assert.Contains("truthdb verify", result.Stderr);
                break;
            case "damaged":
                // Up to the damage (LSN 20 is bad), then a clear stop.
                Assert.True(result.ExitCode == 1, result.ToString());
                Assert.Equal(19, lines.Length);
                Assert.Contains("truthdb verify", result.Stderr);
                break;
            default:
                Assert.True(result.ExitCode == 0, result.ToString());
                Assert.Equal(last, lines.Length);
                break;
        }
    }

    // Puts the directory in the state; for "writer-live", returns the writer (an append that has
    // acknowledged 5 more records and waits for more on its stdin, holding the writer lock); for
    // "writer-killed", that writer is SIGKILLed (its watermark file still says it has the log open).
    private async Task<Truthdb?> PrepareAsync(string state)
    {
        switch (state)
        {
            case "torn":
                Tear();
                return null;
            case "damaged":
                var victim = _log.Frame(20);
                Assert.Equal(_log.Segments()[0], victim.Segment);
                _log.FlipBit(victim.Segment, victim.Offset + 40);
                return null;
            case "no-mirror":
                KeepOnlySegments();
                return null;
            case "writer-live" or "writer-killed":
                var writer = Truthdb.Start(["append", "--dir", _log.Dir, "--segment-size", LogDirectory.SmallSegments]);
                await writer.SendAsync(Encoding.UTF8.GetBytes(LogDirectory.Lines(5, first: Records + 1)), Timeouts.Token());
                await WaitDurableAsync(Records + 5);
                if (state == "writer-killed")
                {
                    await writer.DisposeAsync();
                    return null;
                }

                return writer;
            default:
                return null;
        }
    }

    // A torn tail: the clean-close note gone (as after a crash) and a partial write after the last frame.
    private (string Segment, long End) Tear()
    {
        File.Delete(Path.Combine(_log.Dir, "truthdb.clean"));
        var last = _log.Frames()[^1];
        var end = last.Offset + last.FrameLength;
        _log.Write(last.Segment, end, "torn write"u8);
        return (last.Segment, end);
    }

    private void KeepOnlySegments()
    {
        foreach (var path in Directory.GetFiles(_log.Dir))
        {
            if (!path.EndsWith(".wal", StringComparison.Ordinal))
            {
                File.Delete(path);
            }
        }
    }

    private void CopyTo(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var path in Directory.GetFiles(_log.Dir))
        {
            File.Copy(path, Path.Combine(directory, Path.GetFileName(path)));
        }
    }

    private async Task WaitDurableAsync(long lsn)
    {
        using var reader = WalReader.Open(_log.Dir);
        await foreach (var record in reader.ReadAsync(lsn, new ReadOptions { Follow = true }, Timeouts.Token()))
        {
            Assert.Equal(lsn, record.Lsn);
            break;
        }
    }

    // tail prints every record and runs until Ctrl+C, or stops by itself where it cannot read on.
    private async Task<CliResult> TailAsync(string state, long last)
    {
        await using var tail = Truthdb.Start(["tail", "--dir", _log.Dir]);
        if (state is "torn" or "damaged")
        {
            var stopped = await tail.WaitAsync(Timeouts.Token());
            Assert.True(stopped.ExitCode == 1, stopped.ToString());
            Assert.Contains("truthdb verify", stopped.Stderr);
            return stopped;
        }

        await tail.WaitForOutputAsync(o => o.Contains($"\n{last}\t", StringComparison.Ordinal), Timeouts.Token());
        await tail.InterruptAsync(Timeouts.Token());
        var result = await tail.WaitAsync(Timeouts.Token());
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
