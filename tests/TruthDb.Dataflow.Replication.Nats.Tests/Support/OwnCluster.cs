using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using TruthDb.Dataflow.Testing;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>
/// A JetStream cluster (3 nodes, or a single server) that one test owns, so it can stop and restart a node without
/// disturbing other tests: <c>nats-server</c> from the PATH (Debian's package; the test fails if it is
/// missing), loopback only, client ports <c>basePort+1..3</c>, route ports <c>basePort+2001..3</c>, file
/// storage in a temporary directory deleted afterwards.
/// </summary>
internal sealed class OwnCluster : IAsyncDisposable
{
    private readonly int _basePort;
    private readonly string _root;
    private readonly Process?[] _nodes;

    private OwnCluster(int basePort, int nodes)
    {
        _basePort = basePort;
        _nodes = new Process?[nodes];
        _root = Path.Combine(Path.GetTempPath(), "truthdb-replication-tests", "cluster-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
    }

    /// <summary>The client URLs of the three nodes, comma-separated.</summary>
    public string Urls => string.Join(',', Enumerable.Range(1, _nodes.Length).Select(i => $"nats://127.0.0.1:{ClientPort(i)}"));

    /// <summary>Starts the nodes (3, or 1: a single server without clustering) and waits until each accepts connections.</summary>
    public static async Task<OwnCluster> StartAsync(int basePort, CancellationToken ct, int nodes = 3)
    {
        var cluster = new OwnCluster(basePort, nodes);
        for (var i = 1; i <= nodes; i++)
        {
            cluster.Launch(i);
        }

        for (var i = 1; i <= nodes; i++)
        {
            await cluster.WaitForPortAsync(i, ct);
        }

        return cluster;
    }

    /// <summary>The node's server name (what stream info reports as leader): n1, n2, n3.</summary>
    public static string Name(int node) => "n" + node.ToString(CultureInfo.InvariantCulture);

    /// <summary>SIGKILL for node <paramref name="node"/> (1-3).</summary>
    public async Task KillAsync(int node, CancellationToken ct)
    {
        var process = _nodes[node - 1] ?? throw new InvalidOperationException($"Node {node} is not running.");
        _nodes[node - 1] = null;
        await ChildProcesses.KillAndDisposeAsync(process, ct);
    }

    /// <summary>Starts node <paramref name="node"/> again on its storage and waits for its port.</summary>
    public async Task RestartAsync(int node, CancellationToken ct)
    {
        Launch(node);
        await WaitForPortAsync(node, ct);
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < _nodes.Length; i++)
        {
            if (_nodes[i] is { } process)
            {
                await ChildProcesses.KillAndDisposeAsync(process, Timeouts.Token());
            }
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private int ClientPort(int node) => _basePort + node;

    private int RoutePort(int node) => _basePort + 2000 + node;

    private void Launch(int node)
    {
        var start = new ProcessStartInfo("nats-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var routes = string.Join(',', Enumerable.Range(1, _nodes.Length).Select(i => $"nats://127.0.0.1:{RoutePort(i)}"));
        List<string> args = ["-a", "127.0.0.1", "-p", ClientPort(node).ToString(CultureInfo.InvariantCulture), "-n", Name(node), "-js", "-sd", Path.Combine(_root, Name(node))];
        if (_nodes.Length > 1)
        {
            args.AddRange(["--cluster_name", "truthdb-test-" + _basePort.ToString(CultureInfo.InvariantCulture), "--cluster", $"nats://127.0.0.1:{RoutePort(node)}", "--routes", routes]);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("nats-server did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("nats-server is not on the PATH: install Debian's package ('.ci/nats.sh start' does), the replication tests need it.", ex);
        }

        // Drain its output so it never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _nodes[node - 1] = process;
    }

    private async Task WaitForPortAsync(int node, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (_nodes[node - 1] is { HasExited: true } exited)
            {
                throw new InvalidOperationException($"nats-server node {node} exited with code {exited.ExitCode} (port {ClientPort(node)} in use?).");
            }

            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync("127.0.0.1", ClientPort(node), ct);
                return;
            }
            catch (SocketException)
            {
                // Not listening yet: a poll interval, bounded by the test's token.
                await Task.Delay(10, ct);
            }
        }
    }
}
