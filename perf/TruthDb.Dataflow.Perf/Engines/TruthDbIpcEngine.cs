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

    /// <summary>The same, with a tail open on a second connection whose consumer never reads past its first record.</summary>
    public const string StalledTailName = "truthdb-ipc-stalled-tail";

    private readonly Wal _wal;
    private readonly TruthDbServer _server;
    private readonly TruthDbClient _client;
    private readonly string _socket;
    private readonly StalledTail? _stalled;

    private TruthDbIpcEngine(Wal wal, TruthDbServer server, TruthDbClient client, string socket, StalledTail? stalled)
    {
        _wal = wal;
        _server = server;
        _client = client;
        _socket = socket;
        _stalled = stalled;
    }

    public string Name => _stalled is null ? EngineName : StalledTailName;

    public static async ValueTask<IAppendEngine> OpenAsync(EngineSettings settings, bool stalledTail = false)
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
        var stalled = stalledTail ? await StalledTail.OpenAsync(socket) : null;
        return new TruthDbIpcEngine(wal, server, client, socket, stalled);
    }

    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload) => _client.AppendAsync(payload);

    public async ValueTask AppendBatchAsync(ReadOnlyMemory<byte>[] payloads) => await _client.AppendBatchAsync(payloads);

    public EngineCounters? ReadCounters()
    {
        var statistics = _wal.GetStatistics();
        return new EngineCounters(statistics.Appends, statistics.Batches, statistics.Syncs, statistics.SyncTime);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stalled is not null)
        {
            await _stalled.DisposeAsync();
        }

        await _client.DisposeAsync();
        await _server.DisposeAsync();
        await _wal.DisposeAsync();
        File.Delete(_socket);
    }
}

/// <summary>A tail (on its own connection) that takes its first record and then never asks for more.</summary>
internal sealed class StalledTail : IAsyncDisposable
{
    private readonly TruthDbClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly IAsyncEnumerator<WalRecord> _records;
    private readonly Task<bool> _first;

    private StalledTail(TruthDbClient client)
    {
        _client = client;
        _records = client.ReadAsync(0, new ReadOptions { Follow = true, Watermark = WalWatermark.Written }, _stop.Token).GetAsyncEnumerator();
        _first = _records.MoveNextAsync().AsTask();
    }

    public static async Task<StalledTail> OpenAsync(string socket) => new(await TruthDbClient.ConnectAsync(socket));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _first;
            await _records.DisposeAsync();
        }
        catch (Exception ex) when (ex is OperationCanceledException or TruthDbException or TruthDbConnectionException)
        {
        }

        await _client.DisposeAsync();
        _stop.Dispose();
    }
}
