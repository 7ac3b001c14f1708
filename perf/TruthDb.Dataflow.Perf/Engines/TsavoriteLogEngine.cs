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
/// and never synced, so a completed commit may still sit in the disk's volatile write cache, and
/// the file's new size and blocks in the unflushed journal: it survives a process crash, not a
/// power loss. Not power-safe; run only when named.</item>
/// </list>
/// The default device on Linux (<c>Native</c>: libaio/io_uring through a bundled native library) does
/// not load on Debian 12 (it needs glibc 2.38). With <see cref="Durability.Written"/>, an append is
/// acknowledged when <c>EnqueueAsync</c> returns: the entry is in TsavoriteLog's in-memory page, not
/// yet handed to the OS (the buffered rate, as for FasterLog).
/// </summary>
internal sealed class TsavoriteLogEngine : FasterFamilyEngine
{
    public const string EngineName = "tsavoritelog";
    public const string DirectName = "tsavoritelog-direct";

    private readonly IDevice _device;
    private readonly TsavoriteLogSettings _settings;
    private readonly TsavoriteLog _log;

    private TsavoriteLogEngine(string name, IDevice device, TsavoriteLogSettings settings, bool sync)
        : base(name, sync)
    {
        _device = device;
        _settings = settings;
        _log = new TsavoriteLog(settings);
        if (sync)
        {
            StartCommitter(() => _log.CommittedUntilAddress >= _log.TailAddress, token => _log.CommitAsync(token: token));
        }
    }

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

    protected override ValueTask<long> EnqueueAsync(ReadOnlyMemory<byte> payload) => _log.EnqueueAsync(payload);

    protected override ValueTask<long> EnqueueAsync(SpanBatch batch) => _log.EnqueueAsync(batch);

    protected override ValueTask<long> EnqueueAndWaitForCommitAsync(ReadOnlyMemory<byte> payload) => _log.EnqueueAndWaitForCommitAsync(payload);

    protected override ValueTask<long> EnqueueAndWaitForCommitAsync(SpanBatch batch) => _log.EnqueueAndWaitForCommitAsync(batch);

    protected override ValueTask CommitAsync() => _log.CommitAsync();

    protected override void Close()
    {
        _log.Dispose();
        _settings.LogCommitManager.Dispose();
        _settings.Dispose();
        _device.Dispose();
    }
}
