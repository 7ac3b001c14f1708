using System.Text.Json;
using TruthDb.Dataflow.Ipc.Tests.Support;

namespace TruthDb.Dataflow.Ipc.Tests.Interop;

/// <summary>
/// The protocol from another language: Interop/node/client.js speaks it with the nerdbank-streams npm
/// package (multiplexer protocol version 3) and msgpack-lite against an in-process server. Needs node
/// and npm on the PATH; the first run installs the two packages (npm ci, from package-lock.json).
/// </summary>
public sealed class NodeClientTests : IAsyncLifetime
{
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task NodeClient_HelloAppendTailWithCredit_SeesEveryRecord()
    {
        const int Count = 5000;
        var folder = await NodeFolderAsync();

        var run = await Scripts.RunAsync("node", ["client.js", _server.Socket, Count.ToString(System.Globalization.CultureInfo.InvariantCulture)], folder);
        Assert.True(run.ExitCode == 0, "the node client failed:\n" + run.Stdout + run.Stderr);
        using var result = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]);
        var root = result.RootElement;
        Assert.Equal((int)TruthDbErrorCode.UnknownMessage, root.GetProperty("unknownCode").GetInt32());
        Assert.Equal(1, root.GetProperty("firstLsn").GetInt64());
        Assert.Equal(Count, root.GetProperty("count").GetInt32());
        Assert.True(root.GetProperty("durable").GetBoolean());
        Assert.Equal(70, root.GetProperty("pong").GetInt32());
        var seen = root.GetProperty("seen").EnumerateArray().ToList();
        Assert.Equal(Count, seen.Count);
        for (var i = 0; i < Count; i++)
        {
            Assert.Equal(i + 1, seen[i][0].GetInt64());
            Assert.Equal("node-" + i, seen[i][1].GetString());
        }

        Assert.Equal(Count, _server.Wal.WrittenLsn);
        await _server.StopAndVerifyAsync();
    }

    [Fact]
    public async Task DocExample_RunsAsWritten_HelloThenOneDurableAppend()
    {
        var folder = await NodeFolderAsync();
        var doc = await File.ReadAllTextAsync(Scripts.RepositoryFile(Path.Combine("docs", "ipc-protocol.md")));
        var start = doc.IndexOf("```js\n", doc.IndexOf("## 8. Writing a client", StringComparison.Ordinal), StringComparison.Ordinal) + "```js\n".Length;
        var script = Path.Combine(_server.Log.Root, "example.js");
        await File.WriteAllTextAsync(script, doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)]);

        var run = await Scripts.RunAsync("node", [script, _server.Socket], folder, new Dictionary<string, string> { ["NODE_PATH"] = Path.Combine(folder, "node_modules") });
        Assert.True(run.ExitCode == 0, "the example from docs/ipc-protocol.md failed:\n" + run.Stdout + run.Stderr);
        var lines = run.Stdout.Trim().Split('\n');
        using var hello = JsonDocument.Parse(lines[0]);
        Assert.Equal(64, hello.RootElement[0].GetInt32());
        Assert.Equal(_server.Wal.LogId.ToString("D"), hello.RootElement[2][2].GetString());
        Assert.Equal("[65,2,[1,1,true]]", lines[1]);
        Assert.Equal(1, _server.Wal.WrittenLsn);
        await _server.StopAndVerifyAsync();
    }

    // Interop/node, with its two packages installed (npm ci, from package-lock.json) on the first run.
    private static async Task<string> NodeFolderAsync()
    {
        var folder = Scripts.Folder("node", "client.js");
        if (!Directory.Exists(Path.Combine(folder, "node_modules")))
        {
            var install = await Scripts.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], folder);
            Assert.True(install.ExitCode == 0, "npm ci failed:\n" + install.Stdout + install.Stderr);
        }

        return folder;
    }
}
