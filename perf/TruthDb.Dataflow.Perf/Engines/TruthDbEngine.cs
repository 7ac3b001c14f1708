namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// The engine under test: a <see cref="Wal"/> with default options apart from durability and segment
/// size; as <see cref="FollowersName"/>, with <see cref="FollowerCount"/> in-process followers reading
/// every record as it becomes readable under the run's durability, for the whole run.
/// </summary>
internal sealed class TruthDbEngine : IAppendEngine
{
    public const string EngineName = "truthdb";

    public const string FollowersName = "truthdb-16-followers";

    public const int FollowerCount = 16;

    private readonly Wal _wal;
    private readonly CancellationTokenSource _stopFollowers = new();
    private readonly Task[] _followers;

    private TruthDbEngine(string name, Wal wal, Durability durability, int followers)
    {
        Name = name;
        _wal = wal;
        var watermark = durability == Durability.Sync ? WalWatermark.Durable : WalWatermark.Written;
        _followers = new Task[followers];
        for (var i = 0; i < followers; i++)
        {
            _followers[i] = Task.Run(() => FollowAsync(watermark));
        }
    }

    public string Name { get; }

    /// <summary>The log, for the workloads that also read it.</summary>
    public Wal Wal => _wal;

    public static async ValueTask<IAppendEngine> OpenAsync(string name, EngineSettings settings)
    {
        var wal = await Wal.OpenAsync(new WalOptions
        {
            Directory = settings.Directory,
            Durability = settings.Durability,
            SegmentSize = settings.SegmentSize,
        });
        return new TruthDbEngine(name, wal, settings.Durability, name == FollowersName ? FollowerCount : 0);
    }

    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload) => _wal.AppendAsync(payload);

    public async ValueTask AppendBatchAsync(ReadOnlyMemory<byte>[] payloads) => await _wal.AppendBatchAsync(payloads);

    public EngineCounters? ReadCounters()
    {
        var statistics = _wal.GetStatistics();
        return new EngineCounters(statistics.Appends, statistics.Batches, statistics.Syncs, statistics.SyncTime);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopFollowers.CancelAsync();
        foreach (var follower in _followers)
        {
            try
            {
                await follower;
            }
            catch (OperationCanceledException)
            {
                // Stopped at the end of the run.
            }
        }

        _stopFollowers.Dispose();
        await _wal.DisposeAsync();
    }

    // Reads every record from the first on, as it becomes readable, touching each payload's first byte
    // (as a consumer that looks at what it reads would), until the run ends.
    private async Task FollowAsync(WalWatermark watermark)
    {
        var seen = 0L;
        await foreach (var record in _wal.ReadAsync(1, new ReadOptions { Follow = true, Watermark = watermark }, _stopFollowers.Token))
        {
            seen += record.Payload.Span[0];
        }

        GC.KeepAlive(seen);
    }
}
