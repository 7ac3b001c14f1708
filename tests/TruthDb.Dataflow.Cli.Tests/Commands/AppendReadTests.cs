using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TruthDb.Dataflow.Cli.Tests.Support;

namespace TruthDb.Dataflow.Cli.Tests.Commands;

public sealed class AppendReadTests : IDisposable
{
    private readonly LogDirectory _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Append_Lines_PrintsLsnRangeAndReadReturnsThem()
    {
        var append = await Truthdb.RunAsync(["append", "--dir", _log.Dir, "--segment-size", "64KiB"], "hello\nworld\r\nlast", Timeouts.Token());
        Assert.Equal(0, append.ExitCode);
        Assert.Contains("appended 3 records: LSN 1..3 (durable)", append.Stdout);

        var again = await Truthdb.RunAsync(["append", "--dir", _log.Dir, "--durability", "written"], "more\n", Timeouts.Token());
        Assert.Contains("appended 1 record: LSN 4..4", again.Stdout);

        var read = await Truthdb.RunAsync(["read", "--dir", _log.Dir], [], Timeouts.Token());
        Assert.Equal(0, read.ExitCode);
        Assert.Equal("1\thello\n2\tworld\n3\tlast\n4\tmore\n", read.Stdout);
    }

    [Fact]
    public async Task Read_FromLsnAsHexAndJson_PrintsThoseRecords()
    {
        await Truthdb.RunAsync(["append", "-d", _log.Dir, "--segment-size", "64KiB"], "a\nbc\ndef\n", Timeouts.Token());

        var hex = await Truthdb.RunAsync(["read", "-d", _log.Dir, "--from", "2", "--format", "hex"], [], Timeouts.Token());
        Assert.Equal("2\t6263\n3\t646566\n", hex.Stdout);

        var json = await Truthdb.RunAsync(["read", "-d", _log.Dir, "--from", "3", "-f", "json"], [], Timeouts.Token());
        var line = Assert.Single(json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var doc = JsonDocument.Parse(line);
        Assert.Equal(3, doc.RootElement.GetProperty("lsn").GetInt64());
        Assert.Equal("def", doc.RootElement.GetProperty("text").GetString());
        Assert.Equal("ZGVm", doc.RootElement.GetProperty("base64").GetString());
    }

    [Fact]
    public async Task Append_Binary_RoundTripsArbitraryBytes()
    {
        byte[][] records = [[0, 10, 13, 255], [], Encoding.UTF8.GetBytes("line\nbreak")];
        var input = new MemoryStream();
        foreach (var record in records)
        {
            var prefix = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(prefix, (uint)record.Length);
            input.Write(prefix);
            input.Write(record);
        }

        var append = await Truthdb.RunAsync(["append", "-d", _log.Dir, "--binary", "--segment-size", "64KiB"], input.ToArray(), Timeouts.Token());
        Assert.Contains("appended 3 records: LSN 1..3", append.Stdout);

        var hex = await Truthdb.RunAsync(["read", "-d", _log.Dir, "-f", "hex"], [], Timeouts.Token());
        Assert.Equal("1\t000a0dff\n2\t\n3\t6c696e650a627265616b\n", hex.Stdout);
    }

    [Fact]
    public async Task Append_EmptyInput_AppendsNothing()
    {
        var append = await Truthdb.RunAsync(["append", "-d", _log.Dir, "--segment-size", "64KiB"], [], Timeouts.Token());
        Assert.Equal(0, append.ExitCode);
        Assert.Contains("appended 0 records", append.Stdout);
        var read = await Truthdb.RunAsync(["read", "-d", _log.Dir], [], Timeouts.Token());
        Assert.Equal(0, read.ExitCode);
        Assert.Equal(string.Empty, read.Stdout);
    }

    [Fact]
    public async Task Read_JsonOfBinaryPayload_OmitsTextKeepsBase64()
    {
        byte[] input = [2, 0, 0, 0, 0xC3, 0x28];
        await Truthdb.RunAsync(["append", "-d", _log.Dir, "--binary", "--segment-size", "64KiB"], input, Timeouts.Token());
        var json = await Truthdb.RunAsync(["read", "-d", _log.Dir, "-f", "json"], [], Timeouts.Token());
        using var doc = JsonDocument.Parse(json.Stdout.Trim());
        Assert.False(doc.RootElement.TryGetProperty("text", out _));
        Assert.Equal(new byte[] { 0xC3, 0x28 }, doc.RootElement.GetProperty("base64").GetBytesFromBase64());
    }

    [Fact]
    public async Task Append_BinaryInputCutShort_FailsWithMessage()
    {
        byte[] input = [5, 0, 0, 0, (byte)'a', (byte)'b'];
        var result = await Truthdb.RunAsync(["append", "-d", _log.Dir, "--binary", "--segment-size", "64KiB"], input, Timeouts.Token());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("ends inside a binary record", result.Stderr);
    }

    [Fact]
    public async Task Append_Files_AppendsEachInOrder()
    {
        var first = Path.Combine(_log.Root, "a.txt");
        var second = Path.Combine(_log.Root, "b.txt");
        await File.WriteAllTextAsync(first, "one\ntwo\n");
        await File.WriteAllTextAsync(second, "three\n");

        var append = await Truthdb.RunAsync(["append", "-d", _log.Dir, "--segment-size", "64KiB", first, second], [], Timeouts.Token());
        Assert.Contains("appended 3 records: LSN 1..3", append.Stdout);
        var read = await Truthdb.RunAsync(["read", "-d", _log.Dir], [], Timeouts.Token());
        Assert.Equal("1\tone\n2\ttwo\n3\tthree\n", read.Stdout);
    }

    [Fact]
    public async Task Append_MissingFile_FailsWithMessage()
    {
        var result = await Truthdb.RunAsync(["append", "-d", _log.Dir, Path.Combine(_log.Root, "nope.txt")], [], Timeouts.Token());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("does not exist", result.Stderr);
    }

    [Fact]
    public async Task Tail_PrintsRecordsAndFollowsUntilInterrupted()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        await _log.AppendAsync(3);
        await using var tail = Truthdb.Start(["tail", "--dir", _log.Dir, "--from", "2"]);
        await tail.WaitForOutputAsync(o => o.Contains("3\trecord-000003", StringComparison.Ordinal), Timeouts.Token());
        await tail.InterruptAsync(Timeouts.Token());
        var result = await tail.WaitAsync(Timeouts.Token());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("2\trecord-000002", result.Stdout);
        Assert.Equal(2, result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
