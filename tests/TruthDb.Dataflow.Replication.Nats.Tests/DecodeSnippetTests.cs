using System.Diagnostics;
using System.Globalization;
using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Streams;
using TruthDb.Dataflow.Replication.Nats.Tests.Support;

namespace TruthDb.Dataflow.Replication.Nats.Tests;

/// <summary>
/// The batch decoders docs/replication.md gives for other languages, taken from the page as written,
/// run on the bodies of batches a replicator shipped: they must give every record as the log holds it,
/// and refuse a damaged body. Go (1.19 or later), Python 3 and Node.js (20.15 or later) must be on the PATH.
/// </summary>
public sealed class DecodeSnippetTests : IDisposable
{
    // Go wants every import before the first other declaration: the loop's go above the snippet's.
    private const string GoPreamble = """
        package main

        import (
            "fmt"
            "os"
            "sort"
        )


        """;

    private readonly TestLog _log = new();

    public void Dispose() => _log.Dispose();

    [Theory]
    [InlineData("go", "Go (standard library only):", "```go\n", "DecodeBatch")]
    [InlineData("python3", "Python (standard library only):", "```python\n", "decode_batch")]
    [InlineData("node", "JavaScript (Node.js 20.15", "```js\n", "decodeBatch")]
    public async Task Snippet_BatchesAReplicatorShipped_GivesEveryRecordAsTheLogHoldsIt(string program, string heading, string fence, string function)
    {
        var ct = Timeouts.Token();
        var bodies = Path.Combine(_log.Root, "bodies");
        Directory.CreateDirectory(bodies);
        var expected = await ShipAndSaveBodiesAsync(bodies, ct);
        var script = await WriteScriptAsync(program, heading, fence, function, bodies);

        var run = await RunAsync(program, script, ct);

        Assert.True(run.ExitCode == 0, $"the {program} decoder from docs/replication.md failed:\n{run.Output}");
        Assert.Equal(expected, run.Output.Trim().Split('\n'));

        // A damaged body: one payload byte flipped in the first batch.
        var first = Directory.GetFiles(bodies).Order(StringComparer.Ordinal).First();
        var bytes = await File.ReadAllBytesAsync(first, ct);
        bytes[30] ^= 0x01;
        await File.WriteAllBytesAsync(first, bytes, ct);
        var damaged = await RunAsync(program, script, ct);
        Assert.NotEqual(0, damaged.ExitCode);
        Assert.Contains("damaged batch: CRC-32 mismatch", damaged.Output, StringComparison.Ordinal);
    }

    // Ships 500 records (sizes 0 to 600 bytes) in batches of at most 64, saves each message's body as
    // <sequence>.bin and returns the lines a decoder must print: "<lsn> <payload as hex>".
    private async Task<List<string>> ShipAndSaveBodiesAsync(string bodies, CancellationToken ct)
    {
        await using var nats = await NatsServers.ConnectAsync(NatsServers.SingleUrl);
        var stream = NatsServers.UniqueStream("snippet");
        var expected = new List<string>();
        await using (var wal = await _log.OpenAsync())
        {
            await TestLog.AppendAsync(wal, 500, seed: 81, ct);
            using var replicator = NatsReplicator.Create(wal, nats, new NatsReplicatorOptions { StreamName = stream, BatchMaxRecords = 64 });
            Assert.Equal(500, await replicator.CatchUpAsync(ct));
            await foreach (var record in wal.ReadAsync(1, ct: ct))
            {
                expected.Add(record.Lsn.ToString(CultureInfo.InvariantCulture) + " " + Convert.ToHexStringLower(record.Payload.Span));
            }
        }

        var info = await new NatsJSContext(nats).GetStreamAsync(stream, cancellationToken: ct);
        Assert.Equal(8L, info.Info.State.Messages);
        for (var seq = info.Info.State.FirstSeq; seq <= info.Info.State.LastSeq; seq++)
        {
            var entry = await LeaderReads.GetAsync(info, seq, withData: true, ct);
            await File.WriteAllBytesAsync(Path.Combine(bodies, seq.ToString("D6", CultureInfo.InvariantCulture) + ".bin"), entry.Data!, ct);
        }

        return expected;
    }

    // The decoder as the page gives it, followed by a loop over the saved bodies in order.
    private async Task<string> WriteScriptAsync(string program, string heading, string fence, string function, string bodies)
    {
        var doc = await File.ReadAllTextAsync(RepositoryFile(Path.Combine("docs", "replication.md")));
        var start = doc.IndexOf(fence, doc.IndexOf(heading, StringComparison.Ordinal), StringComparison.Ordinal) + fence.Length;
        var snippet = doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)];
        Assert.Contains(function, snippet, StringComparison.Ordinal);
        var loop = program switch
        {
            "go" => $$"""
                func main() {
                    entries, err := os.ReadDir({{Quote(bodies)}})
                    if err != nil {
                        panic(err)
                    }
                    names := []string{}
                    for _, e := range entries {
                        names = append(names, e.Name())
                    }
                    sort.Strings(names)
                    for _, name := range names {
                        body, err := os.ReadFile({{Quote(bodies)}} + "/" + name)
                        if err != nil {
                            panic(err)
                        }
                        records, err := {{function}}(body)
                        if err != nil {
                            fmt.Fprintln(os.Stderr, err)
                            os.Exit(1)
                        }
                        for _, r := range records {
                            fmt.Printf("%d %x\n", r.LSN, r.Payload)
                        }
                    }
                }
                """,
            "node" => $$"""
                const fs = require("node:fs");
                for (const name of fs.readdirSync({{Quote(bodies)}}).sort()) {
                  for (const r of {{function}}(fs.readFileSync({{Quote(bodies)}} + "/" + name))) console.log(`${r.lsn} ${r.payload.toString("hex")}`);
                }
                """,
            _ => $"""
                import os
                for name in sorted(os.listdir({Quote(bodies)})):
                    with open(os.path.join({Quote(bodies)}, name), "rb") as f:
                        for lsn, payload in {function}(f.read()):
                            print(lsn, payload.hex())
                """,
        };
        var script = Path.Combine(_log.Root, program switch { "go" => "decode.go", "node" => "decode.js", _ => "decode.py" });
        await File.WriteAllTextAsync(script, (program == "go" ? GoPreamble : string.Empty) + snippet + "\n" + loop + "\n");
        return script;
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string script, CancellationToken ct)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (program == "go")
        {
            // `go run` builds the file (no module needed) in a build cache of this test's own.
            start.ArgumentList.Add("run");
            start.Environment["GOCACHE"] = Path.Combine(Path.GetDirectoryName(script)!, "go-cache");
        }

        start.ArgumentList.Add(script);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException(program + " did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"{program} is not on the PATH: this test runs the decoder docs/replication.md gives for it.", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            return (process.ExitCode, await stdout + await stderr);
        }
    }

    private static string RepositoryFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{relative} was not found above {AppContext.BaseDirectory}");
    }
}
