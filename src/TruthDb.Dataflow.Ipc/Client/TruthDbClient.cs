using System.Collections.Concurrent;
using System.Net.Sockets;
using Nerdbank.Streams;
using TruthDb.Dataflow.Ipc.Client;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc;

/// <summary>
/// A connection to a <see cref="TruthDbServer"/> with the embedded log's API: appends (pipelined:
/// many in flight, coalesced into one Append message per wire write), reads and tails as
/// <see cref="IAsyncEnumerable{T}"/> (each on its own channel with credit-driven flow), cursors,
/// statistics and retention. It never reconnects or retries by itself: when the connection is lost,
/// appends that were sent and not answered fail with <see cref="TruthDbAppendOutcomeUnknownException"/>,
/// everything else with <see cref="TruthDbConnectionException"/>. Thread-safe.
/// </summary>
public sealed partial class TruthDbClient : IAsyncDisposable
{
    private readonly MultiplexingStream _multiplexer;
    private readonly MultiplexingStream.Channel _control;
    private readonly MessageSender _sender;
    private readonly TruthDbClientOptions _options;
    private readonly ConcurrentDictionary<uint, PendingRequest> _pending = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly MessageReader _replies;
    private readonly TaskCompletionSource _readingEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _lastId;
    private Exception? _lost;
    private int _maxMessageSize = ProtocolConstants.MinMaxMessageSize;

    private TruthDbClient(MultiplexingStream multiplexer, MultiplexingStream.Channel control, TruthDbClientOptions options)
    {
        _multiplexer = multiplexer;
        _control = control;
        _options = options;
        _sender = new MessageSender(control.Output);
        _replies = new MessageReader(control.Input, ProtocolConstants.MaxMaxMessageSize);
        _ = ReadRepliesAsync();
    }

    /// <summary>The identity of the server's log.</summary>
    public Guid LogId { get; private set; }

    /// <summary>The name the server gave in its Hello reply.</summary>
    public string ServerName { get; private set; } = string.Empty;

    /// <summary>
    /// True when the server serves its log read-only (a replica, <c>truthdb serve --read-only</c>): reads
    /// and tails work, appends, cursor commits and truncation fail with a <see cref="TruthDbException"/>
    /// whose <see cref="TruthDbException.ErrorCode"/> is <see cref="TruthDbErrorCode.ReadOnly"/>.
    /// </summary>
    public bool IsReadOnly { get; private set; }

    /// <summary>The largest message the server accepts (a record must fit in one, with a few bytes of framing).</summary>
    public int MaxMessageSize => _maxMessageSize;

    /// <summary>Completes when the connection has ended (closed by either side or lost).</summary>
    public Task Completion => _readingEnded.Task;

    /// <summary>Connects to the server listening on the Unix domain socket <paramref name="socketPath"/> and says Hello.</summary>
    /// <exception cref="TruthDbConnectionException">Nobody listens there, or the connection failed.</exception>
    /// <exception cref="TruthDbException">The server refused the Hello (wrong token, unsupported version).</exception>
    public static async Task<TruthDbClient> ConnectAsync(string socketPath, TruthDbClientOptions? options = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        Socket socket;
        try
        {
            socket = UnixSocketListener.Connect(socketPath);
        }
        catch (SocketException ex)
        {
            throw new TruthDbConnectionException($"Cannot connect to '{socketPath}': {ex.Message}", ex);
        }

        return await ConnectStreamAsync(new NetworkStream(socket, ownsSocket: true), options, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Connects over <paramref name="stream"/>, a duplex stream to a server (such as a child process's
    /// stdout and stdin spliced together with <c>Nerdbank.Streams.FullDuplexStream.Splice</c>), and says
    /// Hello. The client owns the stream from here on.
    /// </summary>
    public static async Task<TruthDbClient> ConnectStreamAsync(Stream stream, TruthDbClientOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var validated = (options ?? new TruthDbClientOptions()).ValidatedCopy();
        MultiplexingStream? multiplexer = null;
        TruthDbClient? client = null;
        try
        {
            multiplexer = MultiplexingStream.Create(stream, Multiplexing.Options(startSuspended: false));
            var control = await multiplexer.OfferChannelAsync(ProtocolConstants.ControlChannel, ct).ConfigureAwait(false);
            client = new TruthDbClient(multiplexer, control, validated);
            var hello = await client.RequestAsync<HelloRequest, HelloReply>(
                MessageType.Hello,
                MessageType.HelloReply,
                new HelloRequest { ProtocolVersion = ProtocolConstants.Version, Token = validated.Token, ClientName = validated.ClientName },
                ct).ConfigureAwait(false);
            client.LogId = Guid.TryParse(hello.LogId, out var id) ? id : Guid.Empty;
            client.ServerName = hello.ServerName;
            client.IsReadOnly = hello.ReadOnly;
            client._maxMessageSize = Math.Max(hello.MaxMessageSize, ProtocolConstants.MinMaxMessageSize);
            return client;
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException or ObjectDisposedException)
        {
            await DisposeQuietlyAsync(client, multiplexer, stream).ConfigureAwait(false);
            throw new TruthDbConnectionException("The connection failed during setup: " + ex.Message, ex);
        }
        catch
        {
            await DisposeQuietlyAsync(client, multiplexer, stream).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Round trip to the server and back.</summary>
    public async ValueTask<TimeSpan> PingAsync(CancellationToken ct = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await RequestAsync<EmptyBody, EmptyBody>(MessageType.Ping, MessageType.Pong, EmptyBody.Instance, ct).ConfigureAwait(false);
        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    /// <summary>The server's log watermarks and counters, and the log's segments and cursors.</summary>
    /// <exception cref="TruthDbException">The server could not tell them: <see cref="TruthDbErrorCode.Corrupted"/> when a cursor
    /// file (or, on a read-only server, a segment's header) is damaged; the message names the file.</exception>
    public async ValueTask<TruthDbServerStatistics> GetStatisticsAsync(CancellationToken ct = default) =>
        new(await RequestAsync<EmptyBody, StatsReply>(MessageType.Stats, MessageType.StatsReply, EmptyBody.Instance, ct).ConfigureAwait(false));

    /// <summary>Durably commits cursor <paramref name="name"/> at <paramref name="lsn"/> in the server's log (see <see cref="Wal.CommitCursorAsync"/>).</summary>
    /// <exception cref="TruthDbException">The name is invalid (<see cref="TruthDbErrorCode.InvalidArgument"/>), the LSN is beyond the log (<see cref="TruthDbErrorCode.OutOfRange"/>), or the server is read-only (<see cref="TruthDbErrorCode.ReadOnly"/>).</exception>
    public async ValueTask CommitCursorAsync(string name, long lsn, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await RequestAsync<CommitCursorRequest, EmptyBody>(MessageType.CommitCursor, MessageType.Ok, new CommitCursorRequest { Name = name, Lsn = lsn }, ct).ConfigureAwait(false);
    }

    /// <summary>Retention: drops whole sealed segments below <paramref name="lsn"/> (see <see cref="Wal.TruncateBeforeAsync"/>); returns the log's first LSN afterwards.</summary>
    /// <exception cref="TruthDbException">The server refused it; <see cref="TruthDbErrorCode.ReadOnly"/> when it serves its log read-only.</exception>
    public async ValueTask<long> TruncateBeforeAsync(long lsn, CancellationToken ct = default) =>
        (await RequestAsync<TruncateRequest, TruncateReply>(MessageType.Truncate, MessageType.TruncateReply, new TruncateRequest { BeforeLsn = lsn }, ct).ConfigureAwait(false)).FirstLsn;

    /// <summary>Closes the connection. Appends sent and not answered fail with <see cref="TruthDbAppendOutcomeUnknownException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_closing.IsCancellationRequested)
        {
            await _closing.CancelAsync().ConfigureAwait(false);
        }

        await _control.Output.CompleteAsync().ConfigureAwait(false);
        await _multiplexer.DisposeAsync().ConfigureAwait(false);
        await _readingEnded.Task.ConfigureAwait(false);
        FailAll(new TruthDbConnectionException("The client was disposed."));
        _sender.Dispose();
    }

    private static async ValueTask DisposeQuietlyAsync(TruthDbClient? client, MultiplexingStream? multiplexer, Stream stream)
    {
        try
        {
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
            else if (multiplexer is not null)
            {
                await multiplexer.DisposeAsync().ConfigureAwait(false);
            }

            await stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    // 1 to 2^32-1, wrapping past 0 (reserved by the protocol).
    private uint NextId()
    {
        while (true)
        {
            var id = unchecked((uint)Interlocked.Increment(ref _lastId));
            if (id != 0)
            {
                return id;
            }
        }
    }
}
