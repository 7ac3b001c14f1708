using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Streams;

namespace TruthDb.Dataflow.Replication.Nats.Restoring;

/// <summary>
/// Reads a run of stream sequences through the stream leader (<see cref="LeaderReads"/>, with their
/// bodies), up to <c>concurrency</c> message gets in flight, and hands them out in sequence order.
/// Reading through the leader gives the restore the view the replicator builds on, not that of a
/// replica that may have fallen behind or lost messages.
/// </summary>
internal sealed class LeaderFetcher(int concurrency)
{
    private readonly Queue<Task<StreamEntry>> _pending = new();
    private INatsJSStream? _stream;
    private CancellationToken _ct;
    private ulong _next;
    private ulong _last;

    /// <summary>The next sequence <see cref="NextAsync"/> returns (one past the last returned).</summary>
    public ulong Position { get; private set; }

    /// <summary>True while a requested sequence has not been handed out.</summary>
    public bool HasMore => _pending.Count > 0;

    /// <summary>Starts reading <paramref name="from"/> to <paramref name="to"/> afresh (what was in flight is dropped).</summary>
    public async Task StartAsync(INatsJSStream stream, ulong from, ulong to, CancellationToken ct)
    {
        await DrainAsync().ConfigureAwait(false);
        _stream = stream;
        _ct = ct;
        _next = from;
        _last = to;
        Position = from;
        Fill();
    }

    /// <summary>Reads on up to <paramref name="to"/>.</summary>
    public void Extend(ulong to)
    {
        _last = Math.Max(_last, to);
        Fill();
    }

    /// <summary>The next sequence, in order.</summary>
    public async Task<StreamEntry> NextAsync()
    {
        var entry = await _pending.Dequeue().ConfigureAwait(false);
        Position = entry.Sequence + 1;
        Fill();
        return entry;
    }

    /// <summary>Waits out what is in flight, whatever its outcome (when the reads are given up).</summary>
    public async Task DrainAsync()
    {
        while (_pending.TryDequeue(out var pending))
        {
            try
            {
                await pending.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NATS.Client.Core.NatsException or TimeoutException or OperationCanceledException)
            {
                // Given up: the read that needed it starts again.
            }
        }
    }

    private void Fill()
    {
        while (_pending.Count < concurrency && _next <= _last && _stream is { } stream)
        {
            _pending.Enqueue(LeaderReads.GetAsync(stream, _next++, withData: true, _ct));
        }
    }
}
