using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TruthDb.Dataflow.NatsChaos;

/// <summary>
/// A 3-node nats-server cluster on loopback, on ports the kernel handed out free, with each node's
/// JetStream storage and log in a fresh directory. Only the processes it started are ever signalled:
/// <see cref="Kill"/> is SIGKILL (Process.Kill), <see cref="DisposeAsync"/> kills the nodes still
/// running, keeps their logs (logs/ beside the directory) and deletes the directory.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly string _root;
    private readonly string _natsServer;
    private readonly Process?[] _processes = new Process?[3];

    private LocalCluster(string root, string natsServer, Node[] nodes)
    {
        _root = root;
        _natsServer = natsServer;
        Nodes = nodes;
    }

    public IReadOnlyList<Node> Nodes { get; }

    /// <summary>The cluster's directory; its servers' logs are kept in logs/(its name) beside it.</summary>
    public string Root => _root;

    public string ClientUrls => string.Join(',', Nodes.Select(n => $"nats://127.0.0.1:{n.ClientPort}"));

    /// <summary>Starts the three nodes and waits until each reports healthy JetStream.</summary>
    public static async Task<LocalCluster> StartAsync(string parent, string natsServer, bool syncAlways, bool debug, CancellationToken ct)
    {
        var root = Path.Combine(Path.GetFullPath(parent), "cluster-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var ports = FreePorts(9);
        var nodes = Enumerable.Range(0, 3)
            .Select(i => new Node(i, $"n{i + 1}", ports[i * 3], ports[(i * 3) + 1], ports[(i * 3) + 2]))
            .ToArray();
        var routes = string.Join(", ", nodes.Select(n => $"\"nats-route://127.0.0.1:{n.RoutePort}\""));
        foreach (var node in nodes)
        {
            var sync = syncAlways ? "\n  sync_interval: always" : string.Empty;
            var config = $$"""
                server_name: "{{node.Name}}"
                listen: "127.0.0.1:{{node.ClientPort}}"
                http: "127.0.0.1:{{node.MonitorPort}}"
                log_file: "{{Path.Combine(root, node.Name + ".log")}}"
                debug: {{(debug ? "true" : "false")}}
                jetstream {
                  store_dir: "{{Path.Combine(root, node.Name)}}"{{sync}}
                }
                cluster {
                  name: "chaos"
                  listen: "127.0.0.1:{{node.RoutePort}}"
                  routes: [{{routes}}]
                }
                """;
            await File.WriteAllTextAsync(Path.Combine(root, node.Name + ".conf"), config, ct);
        }

        var cluster = new LocalCluster(root, natsServer, nodes);
        try
        {
            foreach (var node in nodes)
            {
                cluster.Start(node);
            }

            foreach (var node in nodes)
            {
                await cluster.WaitHealthyAsync(node, TimeSpan.FromSeconds(60), ct);
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public Node ByName(string name) => Nodes.FirstOrDefault(n => n.Name == name)
        ?? throw new InvalidOperationException($"No node named '{name}' in this cluster.");

    public bool IsRunning(Node node) => _processes[node.Index] is { HasExited: false };

    public void Start(Node node)
    {
        if (IsRunning(node))
        {
            throw new InvalidOperationException($"{node.Name} is already running.");
        }

        var info = new ProcessStartInfo(_natsServer) { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(Path.Combine(_root, node.Name + ".conf"));
        _processes[node.Index]?.Dispose();
        _processes[node.Index] = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {_natsServer}.");
    }

    /// <summary>SIGKILL: no shutdown, whatever the server holds in memory is gone.</summary>
    public void Kill(Node node)
    {
        var process = _processes[node.Index];
        if (process is { HasExited: false })
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    public async Task WaitHealthyAsync(Node node, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (!IsRunning(node))
            {
                throw new InvalidOperationException($"{node.Name} exited; the end of its log:\n{LogTail(node)}");
            }

            if (await IsHealthyAsync(node, ct))
            {
                return;
            }

            await Task.Delay(100, ct);
        }

        throw new TimeoutException($"{node.Name} did not report healthy JetStream within {timeout.TotalSeconds:0} s; the end of its log:\n{LogTail(node)}");
    }

    public static async Task<bool> IsHealthyAsync(Node node, CancellationToken ct)
    {
        try
        {
            using var response = await Http.GetAsync(new Uri($"http://127.0.0.1:{node.MonitorPort}/healthz"), ct);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    public string LogTail(Node node)
    {
        var path = Path.Combine(_root, node.Name + ".log");
        return File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(20)) : "(no log)";
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            Kill(node);
            _processes[node.Index]?.Dispose();
        }

        await Task.Yield();
        // The servers' logs outlive the cluster (next to it, under logs/), the storage does not.
        var logs = Path.Combine(Path.GetDirectoryName(_root)!, "logs", Path.GetFileName(_root));
        Directory.CreateDirectory(logs);
        foreach (var node in Nodes)
        {
            var log = Path.Combine(_root, node.Name + ".log");
            if (File.Exists(log))
            {
                File.Move(log, Path.Combine(logs, node.Name + ".log"));
            }
        }

        Directory.Delete(_root, recursive: true);
    }

    private static int[] FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    internal sealed record Node(int Index, string Name, int ClientPort, int MonitorPort, int RoutePort)
    {
        public override string ToString() => Name + " (client port " + ClientPort.ToString(CultureInfo.InvariantCulture) + ")";
    }
}
