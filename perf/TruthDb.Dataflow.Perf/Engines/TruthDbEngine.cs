namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>The engine under test: a <see cref="Wal"/> with default options apart from durability and segment size.</summary>
internal sealed class TruthDbEngine : IAppendEngine
{
    public const string EngineName = "truthdb";

    private readonly Wal _wal;

    private TruthDbEngine(Wal wal) => _wal = wal;

    public string Name => EngineName;

    /// <summary>The log, for the workloads that also read it.</summary>
    public Wal Wal => _wal;

    public static async ValueTask<IAppendEngine> OpenAsync(EngineSettings settings)
    {
        var wal = await Wal.OpenAsync(new WalOptions
        {
            Directory = settings.Directory,
            Durability = settings.Durability,
            SegmentSize = settings.SegmentSize,
        });
        return new TruthDbEngine(wal);
    }

    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload) => _wal.AppendAsync(payload);

    public async ValueTask AppendBatchAsync(ReadOnlyMemory<byte>[] payloads) => await _wal.AppendBatchAsync(payloads);

    public EngineCounters? ReadCounters()
    {
        var statistics = _wal.GetStatistics();
        return new EngineCounters(statistics.Appends, statistics.Batches, statistics.Syncs, statistics.SyncTime);
    }

    public ValueTask DisposeAsync() => _wal.DisposeAsync();
}
