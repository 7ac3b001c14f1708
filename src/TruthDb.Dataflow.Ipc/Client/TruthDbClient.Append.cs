using System.Collections.Concurrent;
using TruthDb.Dataflow.Ipc.Client;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc;

/// <summary>
/// Pipelined appends: each call queues its (copied) payload; one sender at a time takes everything
/// queued into one Append message, sends it, and goes on with what queued meanwhile, without waiting
/// for replies. The server hands each message to the log as one batch (consecutive LSNs), in the
/// order the calls were made.
/// </summary>
public sealed partial class TruthDbClient
{
    // Room for the envelope and the array headers of a message around its payloads.
    private const int MessageOverhead = 64;
    private const int PayloadOverhead = 5;

    // Set while this thread completes a reply's appends: the appends their callers issue again at once
    // are queued, and are sent (on this thread) after the last completion, as one message.
    [ThreadStatic]
    private static TruthDbClient? _completing;

    private readonly ConcurrentQueue<AppendItem> _queue = new();
    private int _sending;

    /// <summary>
    /// Appends a record and returns its LSN once the server's log acknowledged it (durable, unless
    /// <see cref="TruthDbClientOptions.DurableAppends"/> is false). The payload is copied before this
    /// returns. Many appends may be in flight: issue them without awaiting each, and they are sent
    /// together and get increasing LSNs in call order.
    /// </summary>
    /// <exception cref="ArgumentException">The record does not fit in one message (<see cref="MaxMessageSize"/>).</exception>
    /// <exception cref="TruthDbAppendOutcomeUnknownException">The connection was lost after the append was sent: it may or may not be in the log.</exception>
    /// <exception cref="TruthDbConnectionException">The connection was lost before the append was sent: it is not in the log.</exception>
    /// <exception cref="TruthDbException">The server refused it (a full disk, a faulted log, shutting down).</exception>
    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload, CancellationToken ct = default)
    {
        CheckSize(payload);
        var item = new AppendItem(payload.ToArray());
        Enqueue(item);
        return new ValueTask<long>(ct.CanBeCanceled ? item.Completion.Task.WaitAsync(ct) : item.Completion.Task);
    }

    /// <summary>
    /// Appends records as one batch with consecutive LSNs (one Append message of their own) and returns
    /// the first LSN, like <see cref="Wal.AppendBatchAsync"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The batch is empty or does not fit in one message.</exception>
    public ValueTask<long> AppendBatchAsync(ReadOnlySpan<ReadOnlyMemory<byte>> payloads, CancellationToken ct = default)
    {
        if (payloads.IsEmpty)
        {
            throw new ArgumentException("A batch holds at least one record.", nameof(payloads));
        }

        long total = MessageOverhead;
        var copies = new ReadOnlyMemory<byte>[payloads.Length];
        for (var i = 0; i < payloads.Length; i++)
        {
            total += payloads[i].Length + PayloadOverhead;
            copies[i] = payloads[i].ToArray();
        }

        if (total > _maxMessageSize || payloads.Length > ProtocolConstants.MaxAppendRecords)
        {
            throw new ArgumentException($"The batch of {payloads.Length} records takes {total} bytes as a message; one message holds at most {ProtocolConstants.MaxAppendRecords} records and {_maxMessageSize} bytes: split it.", nameof(payloads));
        }

        return new ValueTask<long>(SendBatchAsync(copies, ct));
    }

    private async Task<long> SendBatchAsync(ReadOnlyMemory<byte>[] payloads, CancellationToken ct)
    {
        var id = NextId();
        var items = new List<AppendItem>(payloads.Length);
        for (var i = 0; i < payloads.Length; i++)
        {
            items.Add(new AppendItem([]));
        }

        Register(id, new PendingAppends(items));
        await SendAppendAsync(id, payloads, items).ConfigureAwait(false);
        return await items[0].Completion.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    private void CheckSize(ReadOnlyMemory<byte> payload)
    {
        var length = payload.Length;
        if (length + PayloadOverhead + MessageOverhead > _maxMessageSize)
        {
            throw new ArgumentException($"The record is {length} bytes; a message to this server holds at most {_maxMessageSize - PayloadOverhead - MessageOverhead}.", nameof(payload));
        }
    }

    private void Enqueue(AppendItem item)
    {
        if (Volatile.Read(ref _lost) is { } lost)
        {
            item.Completion.TrySetException(new TruthDbConnectionException("The connection to the server is lost; the append was not sent.", lost));
            return;
        }

        _queue.Enqueue(item);
        if (_completing != this)
        {
            StartSender();
        }
    }

    internal void CompleteAppends(List<AppendItem> items, long firstLsn)
    {
        _completing = this;
        try
        {
            items.CompleteFrom(firstLsn);
        }
        finally
        {
            _completing = null;
        }

        if (!_queue.IsEmpty && Interlocked.CompareExchange(ref _sending, 1, 0) == 0)
        {
            // Runs here until its first wait (a flush that cannot complete at once), usually to the end.
            _ = SendQueuedAsync();
        }
    }

    private void StartSender()
    {
        if (Interlocked.CompareExchange(ref _sending, 1, 0) == 0)
        {
            _ = Task.Run(SendQueuedAsync);
        }
    }

    private async Task SendQueuedAsync()
    {
        while (true)
        {
            var batch = TakeBatch();
            if (batch is null)
            {
                Volatile.Write(ref _sending, 0);

                // An append queued after the queue looked empty and before the flag was cleared.
                if (_queue.IsEmpty || Interlocked.CompareExchange(ref _sending, 1, 0) != 0)
                {
                    return;
                }

                continue;
            }

            var id = NextId();
            var payloads = new ReadOnlyMemory<byte>[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                payloads[i] = batch[i].Payload;
            }

            try
            {
                Register(id, new PendingAppends(batch, this));
            }
            catch (TruthDbConnectionException ex)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Batch.FailWith(s.Error), (Batch: batch, Error: (Exception)ex), preferLocal: false);
                continue;
            }

            await SendAppendAsync(id, payloads, batch).ConfigureAwait(false);
        }
    }

    private List<AppendItem>? TakeBatch()
    {
        List<AppendItem>? batch = null;
        long bytes = MessageOverhead;
        while (_queue.TryPeek(out var next))
        {
            var size = next.Payload.Length + PayloadOverhead;
            if (batch is not null && (batch.Count >= _options.MaxBatchRecords || bytes + size > _maxMessageSize))
            {
                break;
            }

            if (!_queue.TryDequeue(out var item))
            {
                break;
            }

            batch ??= [];
            batch.Add(item);
            bytes += size;
        }

        return batch;
    }

    private async Task SendAppendAsync(uint id, ReadOnlyMemory<byte>[] payloads, List<AppendItem> items)
    {
        try
        {
            await _sender.SendAsync(MessageType.Append, id, new AppendRequest { Payloads = payloads, Durable = _options.DurableAppends }, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // Part of the message may have left: the outcome is unknown.
            if (_pending.TryRemove(id, out var pending))
            {
                pending.Lost(new TruthDbAppendOutcomeUnknownException("The connection was lost while the append was being sent: it may or may not be in the log.", ex));
            }

            _ = items;
        }
    }

    private void FailQueuedAppends(Exception reason)
    {
        var unsent = new List<AppendItem>();
        while (_queue.TryDequeue(out var item))
        {
            unsent.Add(item);
        }

        if (unsent.Count > 0)
        {
            var error = new TruthDbConnectionException("The connection to the server is lost; the appends were not sent.", reason);
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Unsent.FailWith(s.Error), (Unsent: unsent, Error: (Exception)error), preferLocal: false);
        }
    }
}
