// Rebuilding a log from the stream a replicator fed (docs/replication.md, "Restore, read replicas and
// failover"), and why the copy is the source's prefix, byte for byte, after a crash at any point:
//
//   identity:  the restored log is created with the source's log id (from the stream's messages) and
//              starts at the LSN of the stream's first message (WalOptions.LogId, FirstLsn): same id,
//              same LSNs, so it can go on as that log. A directory that holds another log, or a stream
//              of another log, is refused.
//   resume:    the restored log itself says where to go on: its last record W (after the log's own
//              recovery). Through the stream leader, a binary search finds the message that holds W
//              (or W + 1 when the log holds none yet); its records up to W are compared with the log's
//              byte for byte (another history of the log stops the restore), the rest appended.
//   apply:     messages are read in sequence order through the leader (message gets, Concurrency in
//              flight); each must start right at W + 1, be this log's and decode (batch checksum); its
//              records are appended with one batch append, without waiting for the previous ones
//              (AppendQueue), and every acknowledgement must give the stream's LSN. A message that does
//              not start at W + 1 is checked against the leader: when the message before it is still
//              the one applied, the stream has a gap or a regression there and the restore stops naming
//              sequence and LSN; otherwise the stream changed under the restorer (it lost its tail and
//              the replicator shipped it again) and it finds its place again by LSN.
//   crash:     appends are acknowledged under the restored log's durability (Sync by default); a crash
//              leaves a prefix of what was appended, which the next run finds as W. Nothing else is kept.
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>
/// Rebuilds a log from a stream a <see cref="NatsReplicator"/> fed: the same log id, the same LSNs,
/// byte-exact payloads, in a directory of its own on any machine. <see cref="RestoreAsync"/> restores
/// what the stream holds and returns; <see cref="RunAsync"/> keeps following, so the directory is a
/// read replica (read it with <see cref="WalReader"/> or <c>truthdb tail</c>; it is a log like any
/// other). Resumable after a crash at any point: it finds where it stopped from its own log. A stream
/// with a gap or a regression, another history of the log, or a directory holding another log stops it
/// (<see cref="StreamMismatchException"/>, <see cref="ReplicationException"/>). While it runs it is the
/// restored log's writer (it holds the log's writer lock); when it stops, the log may be opened as a
/// writer and go on as the source (failover).
/// </summary>
public sealed partial class NatsRestorer
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(200);
    private readonly NatsJSContext _js;
    private readonly NatsRestorerOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = NewSignal();
    private long _restoredLsn;
    private long _streamLsn;
    private long _messagesRestored;
    private long _recordsRestored;
    private long _bytesRestored;
    private long _retries;
    private int _running;

    private NatsRestorer(string directory, INatsConnection connection, NatsRestorerOptions options)
    {
        Directory = Path.GetFullPath(directory);
        _options = options;
        _js = new NatsJSContext(connection);
        _logger = options.Logger ?? NullLogger.Instance;
        StreamName = options.StreamName;
    }

    /// <summary>The directory of the restored log.</summary>
    public string Directory { get; }

    /// <summary>The stream it is restored from.</summary>
    public string StreamName { get; }

    /// <summary>
    /// A restorer of stream <see cref="NatsRestorerOptions.StreamName"/> into <paramref name="directory"/>
    /// (created if missing; it holds no log yet, or the log restored from this stream before). Nothing is
    /// read or written until it runs.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static NatsRestorer Create(string directory, INatsConnection connection, NatsRestorerOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        var copy = options.Copy();
        copy.Validate();
        return new NatsRestorer(directory, connection, copy);
    }

    /// <summary>Where the restore stands now.</summary>
    public RestoreProgress GetProgress() => new()
    {
        RestoredLsn = Interlocked.Read(ref _restoredLsn),
        StreamLsn = Interlocked.Read(ref _streamLsn),
        MessagesRestored = Interlocked.Read(ref _messagesRestored),
        RecordsRestored = Interlocked.Read(ref _recordsRestored),
        BytesRestored = Interlocked.Read(ref _bytesRestored),
        Retries = Interlocked.Read(ref _retries),
    };

    /// <summary>
    /// Restores what the stream holds when it is called (up to its last LSN then), waits until the
    /// restored log has acknowledged it, closes the log and returns the last LSN it holds (0 when the
    /// stream holds no message and no log was created).
    /// </summary>
    /// <exception cref="StreamMismatchException">The stream has a gap or a regression, holds another history of the log, or starts after the restored log ends.</exception>
    /// <exception cref="ReplicationException">The directory holds another log, the stream holds no replicated log, or the servers stayed unreachable longer than the retry limit.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled first.</exception>
    public async Task<long> RestoreAsync(CancellationToken ct = default)
    {
        await RunCoreAsync(follow: false, ct).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        return Interlocked.Read(ref _restoredLsn);
    }

    /// <summary>
    /// Restores and keeps following the stream until <paramref name="ct"/> is cancelled (a read replica),
    /// then waits for the appends in flight, closes the log and returns normally.
    /// </summary>
    /// <exception cref="StreamMismatchException">The stream has a gap or a regression, holds another history of the log, or starts after the restored log ends.</exception>
    /// <exception cref="ReplicationException">The directory holds another log, the stream holds no replicated log, or the servers stayed unreachable longer than the retry limit.</exception>
    public Task RunAsync(CancellationToken ct = default) => RunCoreAsync(follow: true, ct);

    /// <summary>
    /// Completes once the restored log has acknowledged <paramref name="lsn"/>. It does not complete when
    /// the restorer stops first: await it together with the task of <see cref="RunAsync"/>.
    /// </summary>
    public async Task WaitForRestoredAsync(long lsn, CancellationToken ct = default)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                changed = _changed.Task;
            }

            if (Interlocked.Read(ref _restoredLsn) >= lsn)
            {
                return;
            }

            await changed.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Restored(long lsn)
    {
        Interlocked.Exchange(ref _restoredLsn, lsn);
        TaskCompletionSource changed;
        lock (_gate)
        {
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }
}
