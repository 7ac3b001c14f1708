// Replication into JetStream, and why it neither loses nor duplicates a record (docs/replication.md
// has the full argument and every crash point):
//
//   messages:  consecutive durable records go into one message (a batch: up to BatchMaxRecords and
//              BatchMaxBytes, sent when full or when the log has no further durable record for now;
//              or one record per message, Format = Record). Message id "<log id>:<first>-<last>"
//              ("<log id>:<lsn>" for a record), the LSNs and the batch number in headers.
//   reconcile: read the stream through its leader and check that its sequence-to-LSN mapping is
//              continuous and this log's (state, first and last message, probes, the last 16 messages;
//              a gap, duplicate, regression or deleted message stops the replicator naming sequence
//              and LSN), that its last message is of this replicator's format and holds the log's own
//              bytes (another history of the log, after a failover, stops it). Let S be the last
//              sequence, M the message there and L its last LSN. Resume after L, whatever the cursor
//              says: a cursor behind L is raised (crash after the ack, before the commit); a cursor
//              ahead of L means the stream lost acknowledged records: first the mark "<cursor>.acked"
//              is raised to the old cursor, then the cursor moves back to L (each an atomic cursor
//              file; a crash between leaves the mark >= L and the old cursor, and the next start does
//              the same again), and the records are shipped again, or, when the log no longer has them
//              (or the stream will not take them within the retry limit), the replicator stops naming them.
//   chain:     every message is published expecting the stream's last message id to be its
//              predecessor's (Nats-Expected-Last-Msg-Id), the epoch's first M's and also expecting last
//              sequence S. The epoch's message k must be acknowledged at sequence S + k: a different one
//              means the numbering changed under the replicator (reconcile). Only when the leader refused
//              the id of M although it returns M as its last (it knows no last message id, or a stale
//              one) does the epoch's first message go anchored by sequence S: alone, and read back with
//              S through the leader before anything is chained on it.
//   ship:      publish in LSN order, at most MaxInFlight messages unacknowledged; acknowledgements may
//              come in any order; the shipped LSN is the end of the acknowledged prefix; the cursor is
//              committed from it.
//   unknown:   a timeout, a no-responders reply or a lost connection makes the outcome of everything
//              in flight unknown: stop sending, reconcile again (the stream is the truth), go on.
//   rejected:  an error in an acknowledgement stops the replicator, naming the message's first LSN; the
//              cursor stays below it (except a failed expectation explained by the stream's own last
//              message: retry).
//
// Because every publish names what the stream's last message must be, a message can only be stored
// directly after its predecessor: a publish lost in a leader change makes every later one fail
// (wrong last message id) instead of leaving a gap, a foreign message makes the next one fail
// instead of taking its place, and a replayed one is either dropped by the duplicate window or
// refused by the check. The duplicate window is a convenience, not the guarantee. What the chain
// cannot prevent (replicas of the stream that diverge, a leader that lost acknowledged messages) the
// continuity check finds before the replicator builds on it, and `truthdb replicate --audit` finds
// anywhere in the stream.
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Diagnostics;
using TruthDb.Dataflow.Replication.Nats.Publishing;
using TruthDb.Dataflow.Replication.Nats.Sources;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>
/// Ships a log into a NATS JetStream stream, exactly once and in order: it reads durable records from
/// its cursor, packs consecutive ones into batches (<see cref="NatsMessageFormat"/>; <see cref="RecordBatch"/>
/// decodes one) and publishes each to <see cref="Subject"/> with a message id naming its LSNs, the LSNs
/// and log id in headers, and its predecessor's message id as the expected last message id; it
/// keeps at most <see cref="NatsReplicatorOptions.MaxInFlight"/> messages unacknowledged and commits
/// its durable cursor only up to the acknowledged prefix. On start, and after any publish whose outcome
/// is unknown, it reconciles with what the stream holds (checking that it is continuous), so a crash of
/// the replicator, of the writing process or of a NATS node neither loses nor duplicates a record in the
/// stream; when the stream lost records it had acknowledged, they are shipped again, and when that is
/// impossible, or the stream has a gap, it stops with a <see cref="StreamMismatchException"/>.
/// </summary>
public sealed partial class NatsReplicator : IDisposable
{
    private readonly IReplicationSource _source;
    private readonly INatsConnection _connection;
    private readonly NatsJSContext _js;
    private readonly NatsReplicatorOptions _options;
    private readonly string _logId;
    private readonly ILogger _logger;
    private readonly ReplicationInstruments _instruments;
    private readonly KeyValuePair<string, object?> _tag;
    private readonly AckWindow _window;
    private readonly string _inbox;
    private const int MaxCursorName = 100;
    private long _epoch;
    private bool _anchorBySequence;
    private TimeSpan _duplicateWindow;
    private LostRange? _lost;
    private long _cursorLsn;
    private long _markLsn;
    private long _messagesShipped;
    private long _recordsShipped;
    private long _bytesShipped;
    private long _retries;
    private int _running;
    private int _disposed;

    private NatsReplicator(IReplicationSource source, INatsConnection connection, NatsReplicatorOptions options, string logName)
    {
        _source = source;
        _connection = connection;
        _options = options;
        _js = new NatsJSContext(connection);
        LogName = logName;
        StreamName = options.StreamName;
        Subject = options.Subject ?? LogNames.DefaultSubject(logName);
        CursorName = options.CursorName ?? LogNames.DefaultCursor(options.StreamName);
        _logId = MessageHeaders.FormatLogId(source.LogId);
        _logger = options.Logger ?? NullLogger.Instance;
        _instruments = ReplicationInstruments.For(options.MeterFactory);
        _tag = new KeyValuePair<string, object?>(ReplicationInstruments.StreamTag, StreamName);
        _window = new AckWindow(options.MaxInFlight, options.MaxInFlightBytes);
        // Not under the connection's own inbox prefix: the client routes those to its request
        // multiplexer, which matches exact subjects only.
        _inbox = "_TRUTHDB_ACKS." + Guid.NewGuid().ToString("N");
        if (LogNames.AcknowledgedMark(CursorName).Length > MaxCursorName)
        {
            throw new ArgumentException($"CursorName must be at most {MaxCursorName - 6} characters: the replicator also keeps '{LogNames.AcknowledgedMark("<cursor>")}' (got '{CursorName}').", nameof(options));
        }

        _cursorLsn = source.GetCursor(CursorName);
        _markLsn = source.GetCursor(LogNames.AcknowledgedMark(CursorName));
        _window.Reset(_cursorLsn, 0);
        _instruments.Register(this);
    }

    /// <summary>The JetStream stream records are published into.</summary>
    public string StreamName { get; }

    /// <summary>The subject every record is published to.</summary>
    public string Subject { get; }

    /// <summary>The log's name (in the default subject).</summary>
    public string LogName { get; }

    /// <summary>The durable cursor that records what the stream acknowledged.</summary>
    public string CursorName { get; }

    /// <summary>
    /// A replicator for the log in <paramref name="directory"/>, read through a <see cref="WalReader"/>
    /// (no writer lock: the writer may be another process, running or not). The replicator owns the reader.
    /// </summary>
    /// <param name="directory">The log directory; its name is the default <see cref="NatsReplicatorOptions.LogName"/>.</param>
    /// <param name="connection">A connection to the NATS servers (the caller owns it).</param>
    /// <param name="options">What to ship where; copied and validated.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">No writer ever opened the log.</exception>
    public static NatsReplicator Open(string directory, INatsConnection connection, NatsReplicatorOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(connection);
        var copy = Validated(options);
        var reader = WalReader.Open(directory, TimeSpan.FromMilliseconds(10));
        try
        {
            return new NatsReplicator(new ReaderSource(reader, owns: true), connection, copy, copy.LogName ?? LogNames.FromDirectory(directory));
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>A replicator hosted in the writing process, reading <paramref name="wal"/> (the caller owns the log and disposes it after the replicator).</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static NatsReplicator Create(Wal wal, INatsConnection connection, NatsReplicatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(wal);
        ArgumentNullException.ThrowIfNull(connection);
        var copy = Validated(options);
        return new NatsReplicator(new WalSource(wal), connection, copy, copy.LogName ?? LogNames.FromDirectory(wal.Directory));
    }

    /// <summary>Where replication stands now.</summary>
    public ReplicationProgress GetProgress() => new()
    {
        ShippedLsn = _window.Acked,
        DurableLsn = _source.DurableLsn,
        InFlight = _window.InFlight,
        MessagesShipped = Interlocked.Read(ref _messagesShipped),
        RecordsShipped = Interlocked.Read(ref _recordsShipped),
        BytesShipped = Interlocked.Read(ref _bytesShipped),
        Retries = Interlocked.Read(ref _retries),
        CursorLsn = Interlocked.Read(ref _cursorLsn),
    };

    /// <summary>
    /// Completes once the shipped LSN (the acknowledged prefix) reaches <paramref name="lsn"/>. It does
    /// not complete when the replicator stops first: await it together with the task of <see cref="RunAsync"/>.
    /// </summary>
    public async Task WaitForShippedAsync(long lsn, CancellationToken ct = default)
    {
        while (true)
        {
            var changed = _window.Changed();
            if (_window.Acked >= lsn)
            {
                return;
            }

            await changed.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Stops reporting metrics and releases the log reader it owns. Call it after <see cref="RunAsync"/> returned.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _instruments.Unregister(this);
            _source.Dispose();
        }
    }

    private static NatsReplicatorOptions Validated(NatsReplicatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var copy = options.Copy();
        copy.Validate();
        return copy;
    }
}
