using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TruthDb.Dataflow.Ipc.Server;

namespace TruthDb.Dataflow.Ipc;

/// <summary>
/// Serves one log to other processes: on a Unix domain socket (<see cref="ListenAsync"/>) and on any
/// duplex stream such as stdio (<see cref="ServeAsync"/>). The log is an open <see cref="Wal"/> (every
/// request), or any <see cref="IWalReader"/> served read-only (<see cref="CreateReadOnly"/>; a <see cref="WalReader"/> of a directory
/// another process writes, such as a restored replica: reads, tails, stats and pings as on the writer,
/// and every write request refused with <see cref="TruthDbErrorCode.ReadOnly"/>).
/// Each connection is a Nerdbank.Streams <c>MultiplexingStream</c> (protocol major version 3) with a
/// control channel for requests and one channel per read or tail; messages are MessagePack
/// (docs/ipc-protocol.md). A connection's failures (garbage, a peer that vanishes) end only that
/// connection and never touch the log. The server does not own the log: dispose it after
/// <see cref="StopAsync"/>.
/// </summary>
public sealed partial class TruthDbServer : IAsyncDisposable
{
    private readonly HashSet<ServerConnection> _connections = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Listener> _listeners = [];
    private Task? _stop;

    /// <summary>Makes a server for <paramref name="wal"/>; nothing is served until <see cref="ListenAsync"/> or <see cref="ServeAsync"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    public TruthDbServer(Wal wal, TruthDbServerOptions? options = null)
        : this(new WritableLog(wal ?? throw new ArgumentNullException(nameof(wal))), options)
    {
    }

    private TruthDbServer(ServedLog log, TruthDbServerOptions? options)
    {
        Log = log;
        Options = (options ?? new TruthDbServerOptions()).ValidatedCopy();
        Logger = Options.Logger ?? NullLogger.Instance;
    }

    /// <summary>Connections open now.</summary>
    public int ConnectionCount
    {
        get
        {
            lock (_connections)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>
    /// Makes a read-only server for <paramref name="reader"/> (in practice a <see cref="WalReader"/>: it
    /// takes no lock, so another process may write the log meanwhile, as <c>truthdb restore --follow</c>
    /// does; a <see cref="Wal"/> given here is served read-only too). Hello, Read, Tail, Stats and Ping
    /// work as on a writer's server; Append, CommitCursor and Truncate get the error
    /// <see cref="TruthDbErrorCode.ReadOnly"/> (the connection goes on), and the server writes nothing in
    /// the log's directory. Nothing is served until <see cref="ListenAsync"/> or <see cref="ServeAsync"/>;
    /// the server does not own the reader: dispose it after <see cref="StopAsync"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    public static TruthDbServer CreateReadOnly(IWalReader reader, TruthDbServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new TruthDbServer(new ReadOnlyLog(reader), options);
    }

    /// <summary>True when the server serves its log read-only (made by <see cref="CreateReadOnly"/>): write requests get <see cref="TruthDbErrorCode.ReadOnly"/>.</summary>
    public bool IsReadOnly => Log.IsReadOnly;

    internal ServedLog Log { get; }

    internal TruthDbServerOptions Options { get; }

    internal ILogger Logger { get; }

    internal ServerCounters Counters { get; } = new();

    internal CancellationToken Stopping => _stopping.Token;

    internal int SubscriptionCount
    {
        get
        {
            var count = 0;
            lock (_connections)
            {
                foreach (var connection in _connections)
                {
                    count += connection.SubscriptionCount;
                }
            }

            return count;
        }
    }

    /// <summary>
    /// Serves one connection on <paramref name="stream"/> (a socket, or stdin and stdout spliced into one
    /// duplex stream) until the peer closes it, it fails, or the server stops. Never throws for what the
    /// peer sends. The stream is disposed at the end.
    /// </summary>
    public async Task ServeAsync(Stream stream, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var connection = new ServerConnection(this, stream);
        lock (_connections)
        {
            if (_stopping.IsCancellationRequested)
            {
                stream.Dispose();
                return;
            }

            _connections.Add(connection);
        }

        try
        {
            await connection.RunAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            lock (_connections)
            {
                _connections.Remove(connection);
            }
        }
    }

    /// <summary>
    /// Listens on the Unix domain socket <paramref name="socketPath"/> (the file is created with
    /// <see cref="TruthDbServerOptions.SocketFileMode"/>, owner-only by default, before anyone can connect;
    /// a stale socket file is replaced) and serves every connection in the background until
    /// <see cref="StopAsync"/>. Returns once the socket is listening.
    /// </summary>
    /// <exception cref="IOException">Another server listens on the path, something that is not a socket is there, or the directory does not exist (<see cref="DirectoryNotFoundException"/>).</exception>
    public ValueTask ListenAsync(string socketPath, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        var socket = UnixSocketListener.Bind(socketPath, Options.SocketFileMode);
        var listener = new Listener(socket, Path.GetFullPath(socketPath));
        lock (_connections)
        {
            _listeners.Add(listener);
        }

        listener.Accepting = AcceptLoopAsync(listener, ct);
        TruthDbServerEvents.Listening(Logger, listener.Path);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Graceful shutdown: stops accepting connections and reading requests, lets the requests in flight
    /// finish and their replies go out (appends included), ends reads and tails with an End message,
    /// and closes every connection. Then dispose the <see cref="Wal"/> (which drains and syncs) or the reader.
    /// </summary>
    public Task StopAsync()
    {
        lock (_connections)
        {
            _stop ??= StopCoreAsync();
            return _stop;
        }
    }

    /// <summary>Same as <see cref="StopAsync"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task StopCoreAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Listener[] listeners;
        ServerConnection[] connections;
        lock (_connections)
        {
            listeners = [.. _listeners];
            connections = [.. _connections];
        }

        foreach (var listener in listeners)
        {
            listener.Close();
            if (listener.Accepting is { } accepting)
            {
                await accepting.ConfigureAwait(false);
            }
        }

        var closing = new Task[connections.Length];
        for (var i = 0; i < connections.Length; i++)
        {
            closing[i] = connections[i].StopAsync();
        }

        await Task.WhenAll(closing).ConfigureAwait(false);
    }

    private async Task AcceptLoopAsync(Listener listener, CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping.Token);
        while (!linked.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await listener.Socket.AcceptAsync(linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (!linked.IsCancellationRequested)
                {
                    TruthDbServerEvents.AcceptFailed(Logger, ex, listener.Path);
                }

                break;
            }

            _ = ServeAsync(new NetworkStream(accepted, ownsSocket: true), CancellationToken.None);
        }
    }

    private sealed class Listener
    {
        public Listener(Socket socket, string path)
        {
            Socket = socket;
            Path = path;
        }

        public Socket Socket { get; }

        public string Path { get; }

        public Task? Accepting { get; set; }

        public void Close()
        {
            Socket.Dispose();
            try
            {
                File.Delete(Path);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
