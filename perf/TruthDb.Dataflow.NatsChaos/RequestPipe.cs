using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;

namespace TruthDb.Dataflow.NatsChaos;

/// <summary>
/// Many requests in flight on one connection, in the order they are sent: each is published with
/// the reply subject <c>inbox.id</c>, one subscription on <c>inbox.&gt;</c> takes the replies.
/// At most <c>window</c> requests wait for a reply; one unanswered after <c>timeout</c> completes as
/// timed out (and frees its slot); a reply that comes later is dropped.
/// </summary>
internal sealed class RequestPipe : IAsyncDisposable
{
    private readonly NatsConnection _connection;
    private readonly SemaphoreSlim _slots;
    private readonly long _timeoutTicks;
    private readonly string _inbox;
    private readonly ConcurrentDictionary<long, Pending> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private INatsSub<byte[]>? _sub;
    private Task? _pump;
    private Task? _sweeper;
    private long _nextId;

    public RequestPipe(NatsConnection connection, int window, TimeSpan timeout)
    {
        _connection = connection;
        _slots = new SemaphoreSlim(window, window);
        _timeoutTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        _inbox = "_CHAOS_REPLIES." + Guid.NewGuid().ToString("N"); // not under the connection's own inbox prefix, whose replies it keeps for itself
    }

    public async Task StartAsync(CancellationToken ct)
    {
        _sub = await _connection.SubscribeCoreAsync<byte[]>(_inbox + ".>", opts: new NatsSubOpts
        {
            ChannelOpts = new NatsSubChannelOpts { Capacity = 1 << 16, FullMode = System.Threading.Channels.BoundedChannelFullMode.Wait },
        }, cancellationToken: ct);
        _pump = PumpAsync(_sub);
        _sweeper = SweepAsync();
    }

    /// <summary>
    /// Waits for a free slot and publishes the request (so requests go out in call order); the task
    /// it returns completes with the reply, or with <see cref="Reply.TimedOut"/>.
    /// </summary>
    public async Task<Task<Reply>> SendAsync(string subject, byte[] payload, NatsHeaders? headers, CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        var id = Interlocked.Increment(ref _nextId);
        var pending = new Pending(Stopwatch.GetTimestamp() + _timeoutTicks);
        _pending[id] = pending;
        try
        {
            await _connection.PublishAsync(subject, payload, headers, _inbox + "." + id.ToString(CultureInfo.InvariantCulture), cancellationToken: ct);
        }
        catch
        {
            Complete(id, new Reply(false, null, TimedOut: true));
            throw;
        }

        return pending.Task.Task;
    }

    public async Task WaitIdleAsync(CancellationToken ct)
    {
        while (!_pending.IsEmpty)
        {
            await Task.Delay(20, ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_sub is not null)
        {
            await _sub.UnsubscribeAsync();
            await _sub.DisposeAsync();
        }

        if (_pump is not null)
        {
            await _pump;
        }

        if (_sweeper is not null)
        {
            await _sweeper;
        }

        foreach (var id in _pending.Keys)
        {
            Complete(id, new Reply(false, null, TimedOut: true));
        }

        _stop.Dispose();
        _slots.Dispose();
    }

    private async Task PumpAsync(INatsSub<byte[]> sub)
    {
        try
        {
            await foreach (var msg in sub.Msgs.ReadAllAsync(_stop.Token))
            {
                var dot = msg.Subject.LastIndexOf('.');
                if (!long.TryParse(msg.Subject.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    continue;
                }

                Complete(id, new Reply(msg.HasNoResponders, msg.Data, TimedOut: false));
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task SweepAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(100, _stop.Token);
                var now = Stopwatch.GetTimestamp();
                foreach (var (id, pending) in _pending)
                {
                    if (pending.Deadline < now)
                    {
                        Complete(id, new Reply(false, null, TimedOut: true));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>The first completion of a request wins (reply, timeout or disposal) and frees its slot.</summary>
    private void Complete(long id, Reply reply)
    {
        if (_pending.TryRemove(id, out var pending))
        {
            _slots.Release();
            pending.Task.TrySetResult(reply);
        }
    }

    private sealed class Pending(long deadline)
    {
        public long Deadline { get; } = deadline;

        public TaskCompletionSource<Reply> Task { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>A request's outcome: the reply's payload, or no responders, or no reply in time.</summary>
internal readonly record struct Reply(bool NoResponders, byte[]? Data, bool TimedOut);
