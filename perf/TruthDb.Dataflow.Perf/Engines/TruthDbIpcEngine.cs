using TruthDb.Dataflow.Ipc;

namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// The engine served over IPC: a <see cref="Wal"/> (options as <see cref="TruthDbEngine"/>) behind a
/// <see cref="TruthDbServer"/> on a Unix domain socket, and producers appending through one
/// <see cref="TruthDbClient"/> (pipelined: concurrent appends are coalesced into Append messages).
/// Server and client run in this process, so they share its cores with the producers; the bytes go
/// through the kernel's socket, the multiplexer and MessagePack both ways as they do between processes.
/// Appends are durable (<see cref="TruthDbClientOptions.DurableAppends"/>) under <c>sync</c> and
/// acknowledged when written under <c>written</c>.
/// </summary>
internal sealed class TruthDbIpcEngine : IAppendEngine
{
    public const string EngineName = "truthdb-ipc";

    private readonly Wal _wal;
    private readonly TruthDbServer _server;
    private readonly TruthDbClient _client;
    private readonly string _socket;

    private TruthDbIpcEngine(Wal wal, TruthDbServer server, TruthDbClient client, string socket)
    {
        _wal = wal;
        _server = server;
        _client = client;
        _socket = socket;
    }

    public string Name => EngineName;

    public static async ValueTask<IAppendEngine> OpenAsync(EngineSettings settings)
    {
        var wal = await Wal.OpenAsync(new WalOptions
        {
            Directory = settings.Directory,
            Durability = settings.Durability,
            SegmentSize = settings.SegmentSize,
        });

        // A socket path must fit in 107 bytes: keep it short, outside the run directory.
        var socket = Path.Combine(Path.GetTempPath(), "truthdb-perf-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
        var server = new TruthDbServer(wal);
        await server.ListenAsync(socket);
        var client = await TruthDbClient.ConnectAsync(socket, new TruthDbClientOptions { DurableAppends = settings.Durability == Durability.Sync });
        return new TruthDbIpcEngine(wal, server, client, socket);
    }

    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload) => _client.AppendAsync(payload);

    public EngineCounters? ReadCounters()
    {
        var statistics = _wal.GetStatistics();
        return new EngineCounters(statistics.Appends, statistics.Batches, statistics.Syncs, statistics.SyncTime);
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        await _wal.DisposeAsync();
        File.Delete(_socket);
    }
}
