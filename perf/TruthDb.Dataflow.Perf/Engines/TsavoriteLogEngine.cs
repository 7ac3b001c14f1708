using Tsavorite.core;

namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// TsavoriteLog, FasterLog's maintained successor (Microsoft.Garnet 2.2.12, namespace
/// <c>Tsavorite.core</c>), in its fastest durable set-up: <c>FastCommitMode = true</c>,
/// <c>LogChecksum = PerEntry</c> (fast commit requires it), <c>AutoCommit = false</c>, and the same
/// committer task as <c>fasterlog-fast</c> (<see cref="CommitLoop"/>); producers call
/// <c>EnqueueAndWaitForCommitAsync</c>. Page, memory and segment sizes are the library's defaults
/// (4 MiB, 8 MiB, 1 GiB); commit metadata files are written once every 1,000 commits, Garnet's
/// server default. Two devices (see perf/README.md for what strace shows of each):
/// <list type="bullet">
/// <item><c>tsavoritelog</c>: <c>DeviceType.FileStream</c> (<c>ManagedLocalStorageDevice</c>): files
/// opened <c>O_SYNC</c>, so a completed commit is on stable storage. The durable set-up.</item>
/// <item><c>tsavoritelog-direct</c>: <c>DeviceType.RandomAccess</c>: files opened <c>O_DIRECT</c>
/// and never synced, so a completed commit may still sit in the disk's volatile write cache: not
/// power-safe. Run only when named.</item>
/// </list>
/// The default device on Linux (<c>Native</c>: libaio/io_uring through a bundled native library) does
/// not load on Debian 12 (it needs glibc 2.38). With <see cref="Durability.Written"/>, an append is
/// acknowledged when <c>EnqueueAsync</c> returns: the entry is in TsavoriteLog's in-memory page, not
/// yet handed to the OS (the buffered rate, as for FasterLog).
/// </summary>
internal sealed class TsavoriteLogEngine : IAppendEngine
{
    public const string EngineName = "tsavoritelog";
    public const string DirectName = "tsavoritelog-direct";

    private readonly IDevice _device;
    private readonly TsavoriteLogSettings _settings;
    private readonly TsavoriteLog _log;
    private readonly CommitLoop? _committer;

    private TsavoriteLogEngine(string name, IDevice device, TsavoriteLogSettings settings, bool sync)
    {
        Name = name;
        _device = device;
        _settings = settings;
        _log = new TsavoriteLog(settings);
        if (sync)
        {
            _committer = new CommitLoop(() => _log.CommittedUntilAddress >= _log.TailAddress, token => _log.CommitAsync(token: token));
        }
    }

    public string Name { get; }

    public static IAppendEngine Open(string name, EngineSettings settings)
    {
        Directory.CreateDirectory(settings.Directory);
        var deviceType = name == DirectName ? DeviceType.RandomAccess : DeviceType.FileStream;
        var device = Devices.CreateLogDevice(Path.Combine(settings.Directory, "tsavoritelog.log"), deviceType);
        var tsavorite = new TsavoriteLogSettings
        {
            LogDevice = device,

            // The commit files go through the same device type. Left to itself, the log's commit
            // manager creates them on the platform's default device (Native on Linux x64), which
            // does not load here: every commit then fails inside the log and its waiters hang.
            // Write the commit metadata file once every 1,000 commits, as Garnet's server does by
            // default (FastCommitThrottleFreq): with fast commit, the commit record in the log is
            // what makes a commit durable; the file only speeds up recovery.
            LogCommitManager = new DeviceLogCommitCheckpointManager(
                new LocalStorageNamedDeviceFactoryCreator(deviceType: deviceType),
                new DefaultCheckpointNamingScheme(settings.Directory),
                removeOutdated: true,
                fastCommitThrottleFreq: 1000),
            FastCommitMode = true,
            LogChecksum = LogChecksumType.PerEntry,
            AutoCommit = false,
        };
        return new TsavoriteLogEngine(name, device, tsavorite, settings.Durability == Durability.Sync);
    }

    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload)
    {
        if (_committer is null)
        {
            return _log.EnqueueAsync(payload);
        }

        var committed = _log.EnqueueAndWaitForCommitAsync(payload);
        _committer.Signal();
        return committed;
    }

    public async ValueTask AppendBatchAsync(ReadOnlyMemory<byte>[] payloads)
    {
        var batch = new SpanBatch(payloads);
        if (_committer is null)
        {
            await _log.EnqueueAsync(batch);
            return;
        }

        var committed = _log.EnqueueAndWaitForCommitAsync(batch);
        _committer.Signal();
        await committed;
    }

    public EngineCounters? ReadCounters() => _committer?.Counters;

    public async ValueTask DisposeAsync()
    {
        if (_committer is not null)
        {
            await _committer.DisposeAsync();
        }
        else
        {
            await _log.CommitAsync();
        }

        _log.Dispose();
        _settings.LogCommitManager.Dispose();
        _settings.Dispose();
        _device.Dispose();
    }
}
