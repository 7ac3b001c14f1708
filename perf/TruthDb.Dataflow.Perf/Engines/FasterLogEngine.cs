using FASTER.core;

namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// FASTER's FasterLog (Microsoft.FASTER.Core 2.6.5), in two set-ups (see perf/README.md for every
/// setting and what "durable" means for it on Linux):
/// <list type="bullet">
/// <item><c>fasterlog</c> (stock): <c>new FasterLogSettings(directory)</c> (the documented defaults:
/// device from <c>Devices.CreateLogDevice</c>, 4 MiB pages... as the library sets them) with
/// <c>AutoCommit = true</c>, so every enqueue issues a commit; producers call
/// <c>EnqueueAndWaitForCommitAsync</c>, which completes once a commit covering the entry has
/// finished.</item>
/// <item><c>fasterlog-fast</c>: the same device and sizes, plus <c>FastCommitMode = true</c> and
/// <c>LogChecksum = PerEntry</c> (FastCommitMode requires it), <c>AutoCommit = false</c>, and one
/// committer task that calls <c>CommitAsync</c> back to back while there is anything to commit (it
/// sleeps on a signal when the log is idle, so it does not spin a core).</item>
/// </list>
/// With <see cref="Durability.Written"/>, both set-ups acknowledge an append when
/// <c>EnqueueAsync</c> returns: the entry is in FasterLog's in-memory log buffer, not yet handed
/// to the OS (FASTER writes pages out as they fill, asynchronously). That is FasterLog's buffered
/// rate, a weaker promise than truthdb's Written (which has returned from the write system call).
/// </summary>
internal sealed class FasterLogEngine : FasterFamilyEngine
{
    public const string StockName = "fasterlog";
    public const string FastName = "fasterlog-fast";

    private readonly FasterLogSettings _settings;
    private readonly FasterLog _log;

    private FasterLogEngine(string name, FasterLogSettings settings, bool sync, bool fast)
        : base(name, sync)
    {
        _settings = settings;
        _log = new FasterLog(settings);
        if (sync && fast)
        {
            StartCommitter(() => _log.CommittedUntilAddress >= _log.TailAddress, _log.CommitAsync);
        }
    }

    /// <summary>The log, for the workloads that also read it.</summary>
    public FasterLog Log => _log;

    public static IAppendEngine Open(string name, EngineSettings settings)
    {
        Directory.CreateDirectory(settings.Directory);
        var sync = settings.Durability == Durability.Sync;
        var fast = name == FastName;

        // The constructor with a directory is the documented way to get the defaults: it creates
        // the log device (Devices.CreateLogDevice(directory/hlog)) and the commit directory.
        var faster = new FasterLogSettings(settings.Directory, deleteDirOnDispose: false)
        {
            AutoCommit = sync && !fast,
        };
        if (fast)
        {
            faster.FastCommitMode = true;
            faster.LogChecksum = LogChecksumType.PerEntry;
        }

        return new FasterLogEngine(name, faster, sync, fast);
    }

    protected override ValueTask<long> EnqueueAsync(ReadOnlyMemory<byte> payload) => _log.EnqueueAsync(payload);

    protected override ValueTask<long> EnqueueAsync(SpanBatch batch) => _log.EnqueueAsync(batch);

    protected override ValueTask<long> EnqueueAndWaitForCommitAsync(ReadOnlyMemory<byte> payload) => _log.EnqueueAndWaitForCommitAsync(payload);

    protected override ValueTask<long> EnqueueAndWaitForCommitAsync(SpanBatch batch) => _log.EnqueueAndWaitForCommitAsync(batch);

    protected override ValueTask CommitAsync() => _log.CommitAsync();

    protected override void Close()
    {
        _log.Dispose();
        _settings.Dispose();
    }
}
