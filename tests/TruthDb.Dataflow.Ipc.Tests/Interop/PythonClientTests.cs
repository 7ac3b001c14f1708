using System.Globalization;
using System.Text.Json;
using TruthDb.Dataflow.Ipc.Tests.Support;

namespace TruthDb.Dataflow.Ipc.Tests.Interop;

/// <summary>
/// The protocol from a language with no Nerdbank.Streams port: Interop/python/client.py implements the
/// multiplexer's version 3 wire format itself (docs/ipc-protocol.md, section 2) with the standard
/// library and msgpack, and talks to a real <c>truthdb serve</c> that requires a token. Needs
/// /usr/bin/python3 with Debian's python3-msgpack (the test fails, naming the package, without it).
/// </summary>
public sealed class PythonClientTests : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private const string Token = "python-interop-token";
    private const int Count = 3000;
    private readonly TestLog _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task PythonClient_HelloAppendsReadTailWithCredit_EveryPayloadByteExact()
    {
        var folder = Scripts.Folder("python", "client.py");
        await AssertMsgpackInstalledAsync(folder);
        var token = new Dictionary<string, string> { ["TRUTHDB_TOKEN"] = Token };
        await using var server = await ServeProcess.StartServingAsync(["--dir", _log.Dir, "--socket", _log.Socket, "--segment-size", "1MiB"], token);

        var run = await Scripts.RunAsync(Python, ["client.py", _log.Socket, Count.ToString(CultureInfo.InvariantCulture)], folder, token);
        Assert.True(run.ExitCode == 0, $"the python client failed (exit {run.ExitCode}):\n{run.Stdout}{run.Stderr}");
        using var result = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]);
        var root = result.RootElement;

        // What the client appended: one record, COUNT records in pipelined Appends, one more during the
        // tail. The replies' LSNs are dense from 1, in the order the Appends were sent.
        var appended = new List<byte[]>();
        foreach (var append in root.GetProperty("appended").EnumerateArray())
        {
            Assert.Equal(appended.Count + 1, append[0].GetInt64());
            var payloads = append[2].EnumerateArray().Select(p => Convert.FromHexString(p.GetString()!)).ToList();
            Assert.Equal(payloads.Count, append[1].GetInt32());
            appended.AddRange(payloads);
        }

        Assert.Equal(Count + 2, appended.Count);
        Assert.Contains(appended, p => p.Length == 100_000);
        Assert.Equal(Count + 2, root.GetProperty("statsWrittenLsn").GetInt64());

        // Stats' segments ([name, firstLsn, lastLsn, segmentSize, sealed, createdUnixMs]) and cursors, decoded in Python.
        var segments = root.GetProperty("statsSegments").EnumerateArray().ToList();
        Assert.Equal(Directory.GetFiles(_log.Dir, "*.wal").Length, segments.Count);
        Assert.Equal(("00000000000000000001.wal", 1L), (segments[0][0].GetString(), segments[0][1].GetInt64()));
        Assert.Equal(Count + 2, segments[^1][2].GetInt64());
        Assert.Equal(1024 * 1024, segments[^1][3].GetInt64());
        Assert.Equal([.. Enumerable.Repeat(true, segments.Count - 1), false], segments.Select(s => s[4].GetBoolean()));
        Assert.Equal(0, root.GetProperty("statsCursors").GetArrayLength());

        // Its Read returned everything written before it, byte-exact, then End [last, 0].
        Assert.Equal(1, root.GetProperty("readStart").GetInt64());
        AssertRecords(appended.Take(Count + 1).ToList(), root.GetProperty("read"));
        var end = root.GetProperty("readEnd");
        Assert.Equal((Count + 1L, 0), (end[0].GetInt64(), end[1].GetInt32()));

        // Its Tail, granting one credit per message, returned those and the record appended while it followed.
        Assert.Equal(1, root.GetProperty("tailStart").GetInt64());
        AssertRecords(appended, root.GetProperty("tail"));

        // Read back with the .NET client: the log holds exactly what the Python client sent.
        await using (var client = await TruthDbClient.ConnectAsync(_log.Socket, new TruthDbClientOptions { Token = Token }, Timeouts.Token()))
        {
            Assert.Equal(client.LogId.ToString("D"), root.GetProperty("logId").GetString());
            var lsn = 0;
            await foreach (var record in client.ReadAsync(0, ct: Timeouts.Token()))
            {
                Assert.Equal(++lsn, record.Lsn);
                Assert.True(appended[lsn - 1].AsSpan().SequenceEqual(record.Payload.Span), $"LSN {lsn} differs");
            }

            Assert.Equal(Count + 2, lsn);
        }

        await server.SignalAsync("TERM");
        Assert.Equal(0, await server.WaitForExitAsync());
        _log.AssertClean();
    }

    [Fact]
    public async Task PythonClient_ReadOnlyServer_SeesReadOnlyAndGetsErrorCode15ForAnAppend()
    {
        var folder = Scripts.Folder("python", "client.py");
        await AssertMsgpackInstalledAsync(folder);
        var written = new List<byte[]>();
        await using var wal = await Wal.OpenAsync(_log.Options());
        for (var i = 1; i <= 50; i++)
        {
            written.Add(System.Text.Encoding.UTF8.GetBytes($"written by the writer: {i}"));
            await wal.AppendAsync(written[^1], Timeouts.Token());
        }

        await using var server = await ServeProcess.StartServingAsync(["--dir", _log.Dir, "--socket", _log.Socket, "--read-only"]);

        var run = await Scripts.RunAsync(Python, ["client.py", _log.Socket, "--read-only"], folder);
        Assert.True(run.ExitCode == 0, $"the python client failed (exit {run.ExitCode}):\n{run.Stdout}{run.Stderr}");
        using var result = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]);
        var root = result.RootElement;

        Assert.True(root.GetProperty("readOnly").GetBoolean());
        var refused = root.GetProperty("appendReply");
        Assert.Equal(127, refused[0].GetInt32());
        Assert.Equal((int)TruthDbErrorCode.ReadOnly, refused[1].GetInt32());
        Assert.Contains("read-only replica", refused[2].GetString(), StringComparison.Ordinal);
        AssertRecords(written, root.GetProperty("read"));
        Assert.Equal(50, wal.WrittenLsn);
    }

    private static void AssertRecords(List<byte[]> expected, JsonElement records)
    {
        Assert.Equal(expected.Count, records.GetArrayLength());
        var i = 0;
        foreach (var record in records.EnumerateArray())
        {
            Assert.Equal(i + 1, record[0].GetInt64());
            Assert.True(expected[i].AsSpan().SequenceEqual(Convert.FromHexString(record[1].GetString()!)), $"LSN {i + 1} differs");
            i++;
        }
    }

    // Never skipped: without the interpreter or the package the test fails and says what to install.
    private static async Task AssertMsgpackInstalledAsync(string folder)
    {
        Assert.True(File.Exists(Python), $"{Python} is missing: the Python interop test needs Debian's python3 and python3-msgpack (apt-get install python3-msgpack).");
        var check = await Scripts.RunAsync(Python, ["-c", "import msgpack"], folder);
        Assert.True(check.ExitCode == 0, $"{Python} cannot import msgpack: the Python interop test needs Debian's python3-msgpack (apt-get install python3-msgpack).\n{check.Stderr}");
    }
}
