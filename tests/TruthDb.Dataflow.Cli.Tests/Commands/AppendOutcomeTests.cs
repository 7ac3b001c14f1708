using System.Buffers.Binary;
using System.Text;
using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

/// <summary><c>append</c> always says what it appended: when it ends, when Ctrl+C interrupts it, when it fails midway.</summary>
public sealed class AppendOutcomeTests : IDisposable
{
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData(false, "sync")]
    [InlineData(false, "written")]
    [InlineData(true, "written")]
    public async Task Append_InterruptedWhileStdinIsOpen_NamesTheLsnRangeItAppended(bool served, string durability)
    {
        await _log.AppendAsync(1);
        await using var server = served ? await ServedLog.StartAsync(_log) : null;
        string[] target = served ? ["--socket", server!.Socket] : ["--dir", _log.Dir, "--segment-size", LogDirectory.SmallSegments];
        await using var append = Truthdb.Start(["append", .. target, "--durability", durability]);
        await append.SendAsync(Encoding.UTF8.GetBytes(LogDirectory.Lines(20, length: 100, first: 2)), Timeouts.Token());

        // Wait until the log holds LSN 21 (read beside the writer, which keeps stdin open and waits for more).
        using (var reader = WalReader.Open(_log.Dir))
        {
            await foreach (var record in reader.ReadAsync(2, new ReadOptions { Follow = true, Watermark = WalWatermark.Written }, Timeouts.Token()))
            {
                if (record.Lsn == 21)
                {
                    break;
                }
            }
        }

        await append.InterruptAsync(Timeouts.Token());
        var result = await append.WaitAsync(Timeouts.Token());
        Assert.True(result.ExitCode == 130, result.ToString());
        Assert.Contains("interrupted: appended 20 records: LSN 2..21 (durable)", result.Stdout);
        Assert.Contains("interrupted: the rest of the input was not appended", result.Stderr);

        if (server is not null)
        {
            Assert.Equal(0, await server.StopAsync());
        }

        // Reopened: every record it named is there.
        var read = await Truthdb.RunAsync(["read", "--dir", _log.Dir, "--from", "2"], [], Timeouts.Token());
        var lines = read.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(20, lines.Length);
        Assert.StartsWith("21\trecord-000021-", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Append_BinaryInputCutShort_SaysWhatItAppendedThenFails()
    {
        var input = new MemoryStream();
        foreach (var text in new[] { "first", "second" })
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var prefix = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(prefix, (uint)bytes.Length);
            input.Write(prefix);
            input.Write(bytes);
        }

        input.Write([100, 0, 0, 0, 1, 2]);
        var result = await Truthdb.RunAsync(["append", "--dir", _log.Dir, "--binary"], input.ToArray(), Timeouts.Token());
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("appended 2 records: LSN 1..2 (durable) before the failure below", result.Stdout);
        Assert.Contains("ends inside a binary record", result.Stderr);

        var read = await Truthdb.RunAsync(["read", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.Equal("1\tfirst\n2\tsecond\n", read.Stdout);
    }

    [Fact]
    public async Task Append_Written_SaysDurableBecauseClosingSyncs()
    {
        var result = await Truthdb.RunAsync(["append", "--dir", _log.Dir, "--durability", "written"], "a\nb\n", Timeouts.Token());
        Assert.Equal("appended 2 records: LSN 1..2 (durable)\n", result.Stdout);
        Assert.DoesNotContain("background", result.Stdout);
    }
}
