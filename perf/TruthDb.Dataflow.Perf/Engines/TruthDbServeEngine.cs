using System.Diagnostics;
using System.Globalization;
using TruthDb.Dataflow.Ipc;

namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// The log served by another process: <c>truthdb serve</c> (built next to the harness) runs as a
/// child on a Unix domain socket, and producers append through one <see cref="TruthDbClient"/>
/// here (durable appends under <c>sync</c>, written under <c>written</c>). The writer counters come
/// from the server's Stats reply. The child is a new process for every run: before the run starts,
/// it is warmed up for <see cref="WarmUp"/> with 64 appends in flight, so that the run measures it
/// as a long-running server runs, not while its JIT compiles the hot path again (the tiering takes
/// a core for seconds after start on a loaded 2-core machine, most of a 1 s + 3 s run; the harness's
/// own process, where the embedded engine runs, is warm after its first runs).
/// </summary>
internal sealed class TruthDbServeEngine : IAppendEngine
{
    public const string EngineName = "truthdb-serve";

    private const int WarmUpInFlight = 64;
    private const int WarmUpRecordSize = 128;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(3);

    private readonly Process _server;
    private readonly TruthDbClient _client;

    private TruthDbServeEngine(Process server, TruthDbClient client)
    {
        _server = server;
        _client = client;
    }

    public string Name => EngineName;

    public static async ValueTask<IAppendEngine> OpenAsync(EngineSettings settings)
    {
        var socket = Path.Combine(Path.GetTempPath(), "truthdb-perf-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "truthdb.dll"), "serve", "--dir", settings.Directory, "--socket", socket,
            "--durability", settings.Durability == Durability.Sync ? "sync" : "written",
            "--segment-size", settings.SegmentSize.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(arg);
        }

        var server = Process.Start(start) ?? throw new InvalidOperationException("truthdb serve did not start.");
        while (await server.StandardError.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("truthdb: serving", StringComparison.Ordinal))
            {
                // Keep draining stderr so the child never blocks on it.
                _ = server.StandardError.ReadToEndAsync();
                var client = await TruthDbClient.ConnectAsync(socket, new TruthDbClientOptions { DurableAppends = settings.Durability == Durability.Sync });
                await WarmUpAsync(client);
                return new TruthDbServeEngine(server, client);
            }
        }

        throw new InvalidOperationException("truthdb serve ended before serving.");
    }

    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload) => _client.AppendAsync(payload);

    private static async Task WarmUpAsync(TruthDbClient client)
    {
        var payload = new byte[WarmUpRecordSize];
        var until = Stopwatch.GetTimestamp() + (long)(WarmUp.TotalSeconds * Stopwatch.Frequency);
        var loops = new Task[WarmUpInFlight];
        for (var i = 0; i < loops.Length; i++)
        {
            loops[i] = Task.Run(async () =>
            {
                while (Stopwatch.GetTimestamp() < until)
                {
                    await client.AppendAsync(payload);
                }
            });
        }

        await Task.WhenAll(loops);
    }

    public async ValueTask AppendBatchAsync(ReadOnlyMemory<byte>[] payloads) => await _client.AppendBatchAsync(payloads);

    public EngineCounters? ReadCounters()
    {
        var statistics = _client.GetStatisticsAsync().AsTask().GetAwaiter().GetResult();
        return new EngineCounters(statistics.Appends, statistics.Batches, statistics.Syncs, statistics.SyncTime);
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();

        // SIGTERM: the server stops gracefully (drains, syncs, closes the log) and exits.
        using (var kill = Process.Start("kill", ["-TERM", _server.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await _server.WaitForExitAsync();
        _server.Dispose();
    }
}
