using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>
/// A JetStream cluster (3 nodes, or a single server) that one test owns, so it can stop and restart a node without
/// disturbing other tests: <c>nats-server</c> from the PATH (Debian's package; the test fails if it is
/// missing), loopback only, client and route ports chosen per run among the free ones (asked of the
/// system; a start that finds a port taken meanwhile picks new ones), file storage in a temporary
/// directory deleted afterwards. A node keeps its ports across a restart.
/// </summary>
internal sealed class OwnCluster : IAsyncDisposable
{
    private const int StartAttempts = 5;
    private readonly string _root;
    private readonly Process?[] _nodes;
    private readonly int[] _clientPorts;
    private readonly int[] _routePorts;

    private OwnCluster(int nodes)
    {
        _nodes = new Process?[nodes];
        _clientPorts = new int[nodes];
        _routePorts = new int[nodes];
        _root = Path.Combine(Path.GetTempPath(), "truthdb-replication-tests", "cluster-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
    }

    /// <summary>The client URLs of the nodes, comma-separated.</summary>
    public string Urls => string.Join(',', Enumerable.Range(1, _nodes.Length).Select(Url));

    /// <summary>The number of nodes.</summary>
    public int Count => _nodes.Length;

    /// <summary>The client URL of node <paramref name="node"/> (1-based).</summary>
    public string Url(int node) => $"nats://127.0.0.1:{_clientPorts[node - 1]}";

    /// <summary>
    /// Starts the nodes (3, or 1: a single server without clustering), waits until each accepts
    /// connections, then until JetStream can place a stream on all of them (a port that accepts comes
    /// before the cluster has elected its meta leader and every peer has joined it).
    /// </summary>
    public static async Task<OwnCluster> StartAsync(CancellationToken ct, int nodes = 3)
    {
        var cluster = new OwnCluster(nodes);
        for (var attempt = 1; ; attempt++)
        {
            cluster.ChoosePorts();
            for (var i = 1; i <= nodes; i++)
            {
                cluster.Launch(i);
            }

            try
            {
                for (var i = 1; i <= nodes; i++)
                {
                    await cluster.WaitForPortAsync(i, ct);
                }

                await cluster.WaitForJetStreamAsync(ct);
                return cluster;
            }
            catch (InvalidOperationException) when (attempt < StartAttempts)
            {
                // A port was taken between choosing and binding: stop what started and choose again.
                await cluster.StopAllAsync();
            }
        }
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
        await StopAllAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StopAllAsync()
    {
        for (var i = 0; i < _nodes.Length; i++)
        {
            if (_nodes[i] is { } process)
            {
                _nodes[i] = null;
                await ChildProcesses.KillAndDisposeAsync(process, Timeouts.Token());
            }
        }
    }

    private void ChoosePorts()
    {
        // Hold every listener until all ports are chosen, so that no two are the same.
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < _nodes.Length * 2; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            for (var i = 0; i < _nodes.Length; i++)
            {
                _clientPorts[i] = ((IPEndPoint)listeners[2 * i].LocalEndpoint).Port;
                _routePorts[i] = ((IPEndPoint)listeners[(2 * i) + 1].LocalEndpoint).Port;
            }
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    private int ClientPort(int node) => _clientPorts[node - 1];

    private int RoutePort(int node) => _routePorts[node - 1];

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
            args.AddRange(["--cluster_name", "truthdb-test-" + Path.GetFileName(_root)[8..20], "--cluster", $"nats://127.0.0.1:{RoutePort(node)}", "--routes", routes]);
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

    // Creates and deletes a stream with one replica per node, asking again while the cluster forms
    // (no meta leader yet: no API response; not every peer joined: no suitable peers for placement).
    private async Task WaitForJetStreamAsync(CancellationToken ct)
    {
        await using var nats = await NatsServers.ConnectAsync(Urls);
        var js = new NatsJSContext(nats);
        var name = "ready-" + Path.GetFileName(_root)[8..20];
        while (true)
        {
            try
            {
                await js.CreateStreamAsync(new StreamConfig(name, ["ready." + name]) { NumReplicas = _nodes.Length, Storage = StreamConfigStorage.Memory }, ct);
                await js.DeleteStreamAsync(name, ct);
                return;
            }
            catch (NatsException)
            {
                // Still forming: a poll interval, bounded by the test's token.
                await Task.Delay(50, ct);
            }
        }
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
