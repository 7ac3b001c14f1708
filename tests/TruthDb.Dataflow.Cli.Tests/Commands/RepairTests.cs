using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

/// <summary><c>truthdb repair</c> against real directories.</summary>
public sealed class RepairTests : IDisposable
{
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Repair_WithoutYes_SaysWhatItWouldDoExitsTwoAndChangesNothing()
    {
        await _log.AppendAsync(10);
        var last = _log.Frame(10);
        _log.FlipBit(last.Segment, last.Offset + 100);
        var before = _log.FileHashes();

        var result = await RepairAsync();

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"cut: segment {last.Segment} at offset {last.Offset}", result.Stdout);
        Assert.Contains("kept: LSNs up to 9", result.Stdout);
        Assert.Contains("removed: LSNs 10 to 10", result.Stdout);
        Assert.Contains("Nothing was changed. Run again with --yes to repair.", result.Stdout);
        Assert.Equal(before, _log.FileHashes());
    }

    [Fact]
    public async Task Repair_WithYes_CutsAtTheDamageQuarantinesTheRestAndTheLogOpensAgain()
    {
        await _log.AppendAsync(150);
        var segments = _log.Segments();
        var victim = _log.Frame(20);
        Assert.Equal(segments[0], victim.Segment);
        _log.FlipBit(victim.Segment, victim.Offset + 500);
        var damaged = File.ReadAllBytes(Path.Combine(_log.Dir, segments[0]));
        var later = segments.Skip(1).ToDictionary(s => s, s => File.ReadAllBytes(Path.Combine(_log.Dir, s)));

        var result = await RepairAsync("--yes");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Repaired: removed LSNs 20 to 150; the log now ends at LSN 19. Recorded in 'repair-0001.done'.", result.Stdout);
        var cut = File.ReadAllBytes(Path.Combine(_log.Dir, segments[0]));
        Assert.True(damaged.AsSpan(0, (int)victim.Offset).SequenceEqual(cut.AsSpan(0, (int)victim.Offset)), "the prefix changed");
        var quarantine = File.ReadAllBytes(Path.Combine(_log.Dir, $"repair-0001.{segments[0]}.from-{victim.Offset}.quarantine"));
        Assert.True(damaged.AsSpan((int)victim.Offset, quarantine.Length).SequenceEqual(quarantine), "the quarantine differs from the removed bytes");
        foreach (var (name, bytes) in later)
        {
            Assert.False(File.Exists(Path.Combine(_log.Dir, name)));
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(_log.Dir, $"repair-0001.{name}.quarantine")));
        }

        Assert.Equal(0, (await Truthdb.RunAsync(["verify", "--dir", _log.Dir], [], Timeouts.Token())).ExitCode);
        var append = await Truthdb.RunAsync(["append", "--dir", _log.Dir], "next\n", Timeouts.Token());
        Assert.True(append.ExitCode == 0, append.ToString());
        Assert.Contains("LSN 20..20", append.Stdout);
        var read = await Truthdb.RunAsync(["read", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.Equal(20, read.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Repair_CleanLog_SaysNothingToRepairAndExitsZero()
    {
        await _log.AppendAsync(3);
        var before = _log.FileHashes();

        var result = await RepairAsync("--yes");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Nothing to repair: the log is clean.", result.Stdout);
        Assert.Equal(before, _log.FileHashes());
    }

    [Fact]
    public async Task Repair_WhileAWriterHoldsTheLog_IsRefusedWithExitOne()
    {
        await _log.AppendAsync(10);
        var last = _log.Frame(10);
        await using var wal = await Wal.OpenAsync(new WalOptions { Directory = _log.Dir, SegmentSize = 64 * 1024 });
        Evidence.RewindTo(_log.Dir, 9);
        _log.Write(last.Segment, last.Offset + 4096, "stale"u8);
        var before = _log.FileHashes();

        var result = await RepairAsync("--yes");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("already open by another writer", result.Stderr);
        Assert.Equal(before, _log.FileHashes());
    }

    [Theory]
    [InlineData(new[] { "repair" }, "--dir")]
    [InlineData(new[] { "repair", "--dir", "LOG", "--force" }, "--force")]
    public async Task Repair_BadArguments_ExitsTwoNamingTheProblem(string[] args, string named)
    {
        var result = await Truthdb.RunAsync(args.Select(a => a == "LOG" ? _log.Dir : a), [], Timeouts.Token());

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(named, result.Stderr);
    }

    [Fact]
    public async Task Repair_MissingDirectory_ExitsOneNamingIt()
    {
        var result = await Truthdb.RunAsync(["repair", "--dir", _log.Dir, "--yes"], [], Timeouts.Token());

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("does not exist", result.Stderr);
    }

    [Fact]
    public async Task DamagedCursorFile_VerifyAndStatsReportIt_RepairKeepsItsBytesAndCommitsItAgainAtZero()
    {
        await _log.AppendAsync(5);
        var commit = await Truthdb.RunAsync(["read", "-d", _log.Dir, "--cursor", "job", "--commit"], [], Timeouts.Token());
        Assert.True(commit.ExitCode == 0, commit.ToString());
        var cursorFile = Path.Combine(_log.Dir, "cursor-job.cur");
        var damaged = File.ReadAllBytes(cursorFile);
        damaged[9] ^= 0x10;
        File.WriteAllBytes(cursorFile, damaged);

        var verify = await Truthdb.RunAsync(["verify", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.True(verify.ExitCode == 4, verify.ToString());
        Assert.Contains("damaged cursor: file cursor-job.cur: the file of cursor 'job' is damaged", verify.Stdout);
        var stats = await Truthdb.RunAsync(["stats", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.True(stats.ExitCode == 0, stats.ToString());
        Assert.Contains("cursors:           1", stats.Stdout);
        Assert.Contains("cursor job: DAMAGED file, committed LSN unknown", stats.Stdout);
        var statsJson = await Truthdb.RunAsync(["stats", "--dir", _log.Dir, "--json"], [], Timeouts.Token());
        Assert.Contains("\"cursors\":[],\"damagedCursors\":[\"job\"]", statsJson.Stdout);
        var read = await Truthdb.RunAsync(["read", "-d", _log.Dir, "--cursor", "job"], [], Timeouts.Token());
        Assert.True(read.ExitCode != 0, read.ToString());
        Assert.Contains("'cursor-job.cur'", read.Stderr);

        var before = _log.FileHashes();
        var dryRun = await RepairAsync();
        Assert.True(dryRun.ExitCode == 2, dryRun.ToString());
        Assert.Contains("cursor job: its damaged file kept in repair-0001.cursor-job.cur.quarantine, the cursor committed again at LSN 0", dryRun.Stdout);
        Assert.Contains("cut: none (the segments are intact)", dryRun.Stdout);
        Assert.Equal(before, _log.FileHashes());

        var repair = await RepairAsync("--yes");
        Assert.True(repair.ExitCode == 0, repair.ToString());
        Assert.Contains("Repaired: 1 cursor(s) committed again at LSN 0; no record removed.", repair.Stdout);
        Assert.Equal(damaged, File.ReadAllBytes(Path.Combine(_log.Dir, "repair-0001.cursor-job.cur.quarantine")));
        Assert.Equal(0, (await Truthdb.RunAsync(["verify", "--dir", _log.Dir], [], Timeouts.Token())).ExitCode);
        var resumed = await Truthdb.RunAsync(["read", "-d", _log.Dir, "--cursor", "job"], [], Timeouts.Token());
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(5, resumed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    private Task<CliResult> RepairAsync(params string[] extra) => Truthdb.RunAsync(["repair", "--dir", _log.Dir, .. extra], [], Timeouts.Token());

}
