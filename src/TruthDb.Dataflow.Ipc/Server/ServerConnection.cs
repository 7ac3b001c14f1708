using Nerdbank.Streams;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Server;

/// <summary>
/// One client connection: a multiplexer over the stream, the control channel the client offers, and
/// the subscription channels the server offers. Everything that goes wrong here ends this connection
/// at most: the log and the other connections never see it.
/// </summary>
internal sealed partial class ServerConnection : IDisposable
{
    private static readonly TimeSpan RefuseGrace = TimeSpan.FromSeconds(1);

    private static int _lastId;

    private readonly TruthDbServer _server;
    private readonly Stream _stream;
    private readonly int _id = Interlocked.Increment(ref _lastId);
    private readonly CancellationTokenSource _stopReading = new();
    private readonly CancellationTokenSource _closed = new();
    private readonly SemaphoreSlim _inFlight;
    private readonly Dictionary<uint, TailSubscription> _subscriptions = [];
    private readonly TaskCompletionSource _runEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private MultiplexingStream? _multiplexer;
    private MessageSender? _replies;
    private bool _helloDone;
    private int _helloFailures;
    private int _unexpectedChannels;
    private int _controlOffered;
    private int _refused;
    private MultiplexingStream.Channel? _control;
    private int _stopRequested;

    public ServerConnection(TruthDbServer server, Stream stream)
    {
        _server = server;
        _stream = stream;
        _inFlight = new SemaphoreSlim(server.Options.MaxRequestsInFlight, server.Options.MaxRequestsInFlight);
    }

    public int SubscriptionCount
    {
        get
        {
            lock (_subscriptions)
            {
                return _subscriptions.Count;
            }
        }
    }

    private IWalReader Reader => _server.Log.Reader;

    private TruthDbServerOptions Options => _server.Options;

    public async Task RunAsync(CancellationToken ct)
    {
        TruthDbServerEvents.ConnectionOpened(_server.Logger, _id);
        using var stop = ct.Register(static s => ((ServerConnection)s!).RequestStop(), this);
        try
        {
            _multiplexer = MultiplexingStream.Create(_stream, Multiplexing.Options(startSuspended: true));
            _multiplexer.ChannelOffered += OnChannelOffered;
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(_stopReading.Token);
            handshake.CancelAfter(Options.HandshakeTimeout);
            _multiplexer.StartListening();
            var accepting = _multiplexer.AcceptChannelAsync(ProtocolConstants.ControlChannel, handshake.Token);
            _control = await accepting.WaitAsync(handshake.Token).ConfigureAwait(false);
            _replies = new MessageSender(_control.Output);
            await ControlLoopAsync(_control).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or EndOfStreamException or ObjectDisposedException)
        {
            // The peer went away, stopped talking, or the server stops.
        }
        catch (Exception ex)
        {
            TruthDbServerEvents.ConnectionFailed(_server.Logger, ex, _id);
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
            _runEnded.TrySetResult();
            TruthDbServerEvents.ConnectionClosed(_server.Logger, _id);
        }
    }

    public void Dispose()
    {
        _stopReading.Dispose();
        _closed.Dispose();
        _inFlight.Dispose();
        _replies?.Dispose();
    }

    /// <summary>Graceful stop: no new requests, in-flight ones finish, subscriptions end, then close.</summary>
    public Task StopAsync()
    {
        RequestStop();
        return _runEnded.Task;
    }

    private void RequestStop()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0)
        {
            try
            {
                _stopReading.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The connection ended meanwhile.
            }
        }
    }

    // A client may offer the control channel once; every other offer is rejected and counted, and a
    // flood of them closes the connection (offers cost the server memory until answered).
    private void OnChannelOffered(object? sender, MultiplexingStream.ChannelOfferEventArgs e)
    {
        // The event may come before the pending accept takes the offer: the first control offer is expected.
        if (e.IsAccepted || (e.Name == ProtocolConstants.ControlChannel && Interlocked.Exchange(ref _controlOffered, 1) == 0))
        {
            return;
        }

        try
        {
            _multiplexer?.RejectChannel(e.QualifiedId.Id);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException or ArgumentException)
        {
            // Gone meanwhile.
        }

        if (Interlocked.Increment(ref _unexpectedChannels) > Options.MaxUnexpectedChannels)
        {
            _ = RefuseAsync($"more than {Options.MaxUnexpectedChannels} unexpected channel offers");
        }
    }

    // Closes this connection for bad input: what was replied goes out first (the control channel is
    // completed and the peer gets a short grace to read it), then the connection is torn down.
    private async Task RefuseAsync(string reason)
    {
        if (Interlocked.Exchange(ref _refused, 1) != 0)
        {
            return;
        }

        _server.Counters.ClosedForBadInput();
        TruthDbServerEvents.ConnectionRefused(_server.Logger, _id, reason);
        try
        {
            if (_control is { } control)
            {
                await control.Output.CompleteAsync().ConfigureAwait(false);
            }

            if (_multiplexer is { } multiplexer)
            {
                await Task.WhenAny(multiplexer.Completion, Task.Delay(RefuseGrace)).ConfigureAwait(false);
            }

            await _stopReading.CancelAsync().ConfigureAwait(false);
            if (_multiplexer is { } closing)
            {
                await closing.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile.
        }
    }

    private async Task CloseAsync()
    {
        // Let the requests in flight finish and reply (appends handed to the log are acknowledged).
        for (var i = 0; i < Options.MaxRequestsInFlight; i++)
        {
            await _inFlight.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        TailSubscription[] subscriptions;
        lock (_subscriptions)
        {
            subscriptions = [.. _subscriptions.Values];
        }

        var stopping = new Task[subscriptions.Length];
        for (var i = 0; i < subscriptions.Length; i++)
        {
            stopping[i] = subscriptions[i].StopAsync();
        }

        await Task.WhenAll(stopping).ConfigureAwait(false);

        // Let the last replies reach the client before the connection goes: complete the control
        // channel (the client closes the connection when it sees that), with a short grace.
        if (_multiplexer is { } multiplexer)
        {
            try
            {
                if (_control is { } control && !multiplexer.Completion.IsCompleted)
                {
                    await control.Output.CompleteAsync().ConfigureAwait(false);
                    await Task.WhenAny(multiplexer.Completion, Task.Delay(RefuseGrace)).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException or IOException)
            {
            }
        }

        await _closed.CancelAsync().ConfigureAwait(false);
        if (_multiplexer is { } closing)
        {
            await closing.DisposeAsync().ConfigureAwait(false);
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
