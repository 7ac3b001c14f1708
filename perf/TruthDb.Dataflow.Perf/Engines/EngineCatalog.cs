namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>The engines the harness knows, by name.</summary>
internal static class EngineCatalog
{
    /// <summary>Every engine name, in the order runs use them (truthdb first: ratios are against it).</summary>
    public static readonly string[] Names =
    [
        TruthDbEngine.EngineName, FasterLogEngine.StockName, FasterLogEngine.FastName, TsavoriteLogEngine.EngineName, RocksDbEngine.EngineName, FileStreamEngine.EngineName,
    ];

    /// <summary>
    /// Every engine that can be named: <c>all</c>'s, and the ones run only when named (the log with
    /// in-process followers reading it; the log served
    /// over IPC, in this process or by a child process; TsavoriteLog on its direct-IO device, which is
    /// not power-safe).
    /// </summary>
    public static readonly string[] Known =
    [
        .. Names, TruthDbEngine.FollowersName, TruthDbIpcEngine.EngineName, TruthDbIpcEngine.StalledTailName, TruthDbServeEngine.EngineName, TsavoriteLogEngine.DirectName,
    ];

    /// <summary>
    /// What an engine's acknowledgement promises when that is weaker than the durability's name says
    /// (perf/README.md has the details and the strace evidence), or null.
    /// </summary>
    public static string? Caveat(string engine, Durability durability) => (engine, durability) switch
    {
        (TsavoriteLogEngine.DirectName, Durability.Sync) => "not power-safe: O_DIRECT writes, never synced",
        (FasterLogEngine.StockName or FasterLogEngine.FastName or TsavoriteLogEngine.EngineName or TsavoriteLogEngine.DirectName, Durability.Written) =>
            "buffered: acknowledged in the engine's memory, before any write to the OS",
        _ => null,
    };

    /// <summary>Opens the engine called <paramref name="name"/>.</summary>
    public static ValueTask<IAppendEngine> OpenAsync(string name, EngineSettings settings) => name switch
    {
        TruthDbEngine.EngineName or TruthDbEngine.FollowersName => TruthDbEngine.OpenAsync(name, settings),
        TruthDbIpcEngine.EngineName => TruthDbIpcEngine.OpenAsync(settings),
        TruthDbIpcEngine.StalledTailName => TruthDbIpcEngine.OpenAsync(settings, stalledTail: true),
        TruthDbServeEngine.EngineName => TruthDbServeEngine.OpenAsync(settings),
        FileStreamEngine.EngineName => ValueTask.FromResult<IAppendEngine>(FileStreamEngine.Open(settings)),
        FasterLogEngine.StockName or FasterLogEngine.FastName => ValueTask.FromResult(FasterLogEngine.Open(name, settings)),
        TsavoriteLogEngine.EngineName or TsavoriteLogEngine.DirectName => ValueTask.FromResult(TsavoriteLogEngine.Open(name, settings)),
        RocksDbEngine.EngineName => ValueTask.FromResult(RocksDbEngine.Open(settings)),
        _ => throw new ArgumentException($"Unknown engine '{name}'; known: {string.Join(", ", Known)}.", nameof(name)),
    };
}
