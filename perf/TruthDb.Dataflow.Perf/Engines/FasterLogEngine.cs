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
internal sealed class FasterLogEngine : IAppendEngine
{
    public const string StockName = "fasterlog";
    public const string FastName = "fasterlog-fast";

    private readonly FasterLogSettings _settings;
    private readonly FasterLog _log;
    private readonly bool _sync;
    private readonly CommitLoop? _committer;

    private FasterLogEngine(string name, FasterLogSettings settings, bool sync, bool fast)
    {
        Name = name;
        _settings = settings;
        _sync = sync;
        _log = new FasterLog(settings);
        if (sync && fast)
        {
            _committer = new CommitLoop(() => _log.CommittedUntilAddress >= _log.TailAddress, _log.CommitAsync);
        }
    }

    public string Name { get; }

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

    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload)
    {
        if (!_sync)
        {
            return _log.EnqueueAsync(payload);
        }

        var committed = _log.EnqueueAndWaitForCommitAsync(payload);
        _committer?.Signal();
        return committed;
    }

    public async ValueTask AppendBatchAsync(ReadOnlyMemory<byte>[] payloads)
    {
        var batch = new SpanBatch(payloads);
        if (!_sync)
        {
            await _log.EnqueueAsync(batch);
            return;
        }

        var committed = _log.EnqueueAndWaitForCommitAsync(batch);
        _committer?.Signal();
        await committed;
    }

    // FasterLog does not count its writes; the fast set-up's committer counts its commits and their
    // duration (reported as syncs: each commit ends with O_SYNC writes, see perf/README.md).
    public EngineCounters? ReadCounters() => _committer?.Counters;

    public async ValueTask DisposeAsync()
    {
        if (_committer is not null)
        {
            // Its last commit covers what is left, so every waiting producer completes.
            await _committer.DisposeAsync();
        }
        else
        {
            await _log.CommitAsync();
        }

        _log.Dispose();
        _settings.Dispose();
    }
}
