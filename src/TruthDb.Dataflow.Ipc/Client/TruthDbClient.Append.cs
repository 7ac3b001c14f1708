using TruthDb.Dataflow.Ipc.Client;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc;

/// <summary>
/// Pipelined appends. Each call copies its payload into the open Append message (under a lock, so the
/// messages hold the appends in call order) and gets a pooled completion; one sender at a time seals
/// the oldest message, sends it and goes on with what joined meanwhile, without waiting for replies.
/// The server hands each message to the log as one batch (consecutive LSNs), in the order they were
/// sent. Appends issued by callers whose previous append was just completed by a reply join one
/// message, which is sent from that same thread once all of that reply's callers have run.
/// </summary>
public sealed partial class TruthDbClient
{
    // Room for the length prefix, envelope and array headers of a message around its payloads.
    private const int MessageOverhead = 64;
    private const int PayloadOverhead = 5;

    // Set while this thread completes replies' appends: the appends their callers issue again at once
    // join the open message, which is sent (on this thread) after the last completion.
    [ThreadStatic]
    private static TruthDbClient? _completing;

    private readonly Lock _appendLock = new();
    private readonly Queue<AppendMessage> _sealed = new();
    private AppendMessage? _open;
    private bool _sending;
    private int _sizeHint = 4096;
    private int _operationsHint = 16;

    /// <summary>
    /// Appends a record and returns its LSN once the server's log acknowledged it (durable, unless
    /// <see cref="TruthDbClientOptions.DurableAppends"/> is false). The payload is copied before this
    /// returns. Many appends may be in flight: issue them without awaiting each, and they are sent
    /// together and get increasing LSNs in call order. The returned ValueTask is pooled (like
    /// <see cref="Wal.AppendAsync"/>'s): await it once.
    /// </summary>
    /// <exception cref="ArgumentException">The record does not fit in one message (<see cref="MaxMessageSize"/>).</exception>
    /// <exception cref="TruthDbAppendOutcomeUnknownException">The connection was lost after the append was sent: it may or may not be in the log.</exception>
    /// <exception cref="TruthDbConnectionException">The connection was lost before the append was sent: it is not in the log.</exception>
    /// <exception cref="TruthDbException">The server refused it (a full disk, a faulted log, shutting down; <see cref="TruthDbErrorCode.ReadOnly"/>: the server serves a read-only replica, appends go to the writer).</exception>
    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload, CancellationToken ct = default)
    {
        CheckSize(payload);
        return Join(payload.Span, [], 0, ct);
    }

    /// <summary>
    /// Appends records as one batch with consecutive LSNs (one Append message of their own, after the
    /// appends called before it) and returns the first LSN, like <see cref="Wal.AppendBatchAsync"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The batch is empty or does not fit in one message.</exception>
    /// <exception cref="TruthDbException">The server refused it, as for <see cref="AppendAsync"/>.</exception>
    public ValueTask<long> AppendBatchAsync(ReadOnlySpan<ReadOnlyMemory<byte>> payloads, CancellationToken ct = default)
    {
        if (payloads.IsEmpty)
        {
            throw new ArgumentException("A batch holds at least one record.", nameof(payloads));
        }

        long total = MessageOverhead;
        foreach (var payload in payloads)
        {
            total += payload.Length + PayloadOverhead;
        }

        if (total > _maxMessageSize || payloads.Length > ProtocolConstants.MaxAppendRecords)
        {
            throw new ArgumentException($"The batch of {payloads.Length} records takes {total} bytes as a message; one message holds at most {ProtocolConstants.MaxAppendRecords} records and {_maxMessageSize} bytes: split it.", nameof(payloads));
        }

        return Join([], payloads, (int)total, ct);
    }

    // Joins one append (payload) to the open message, or queues a batch (batch, batchSize bytes) as a
    // message of its own behind it: under the lock, so the messages keep the calls' order.
    private ValueTask<long> Join(ReadOnlySpan<byte> payload, ReadOnlySpan<ReadOnlyMemory<byte>> batch, int batchSize, CancellationToken ct)
    {
        var operation = AppendOperation.Rent();
        var completion = operation.Task;
        bool start;
        lock (_appendLock)
        {
            if (Volatile.Read(ref _lost) is { } lost)
            {
                operation.Fail(new TruthDbConnectionException("The connection to the server is lost; the append was not sent.", lost));
                return completion;
            }

            var open = _open;
            if (open is not null && (!batch.IsEmpty || !open.Fits(payload.Length, _options.MaxBatchRecords, _maxMessageSize)))
            {
                _sealed.Enqueue(open);
                open = _open = null;
            }

            if (batch.IsEmpty)
            {
                open ??= _open = new AppendMessage(_sizeHint, _operationsHint, batch: false);
                open.Add(payload, operation);
            }
            else
            {
                var message = new AppendMessage(batchSize, 1, batch: true);
                message.AddBatch(batch, operation);
                _sealed.Enqueue(message);
            }

            start = ClaimSender();
        }

        if (start)
        {
            StartSender();
        }

        return ct.CanBeCanceled ? new ValueTask<long>(completion.AsTask().WaitAsync(ct)) : completion;
    }

    private void CheckSize(ReadOnlyMemory<byte> payload)
    {
        var length = payload.Length;
        if (length + PayloadOverhead + MessageOverhead > _maxMessageSize)
        {
            throw new ArgumentException($"The record is {length} bytes; a message to this server holds at most {_maxMessageSize - PayloadOverhead - MessageOverhead}.", nameof(payload));
        }
    }

    // Under _appendLock. While this thread completes a reply's appends, the sending is left to the end
    // of those completions (so that the appends they issue leave as one message).
    private bool ClaimSender()
    {
        if (_sending || _completing == this)
        {
            return false;
        }

        _sending = true;
        return true;
    }

    private void StartSender() => ThreadPool.UnsafeQueueUserWorkItem(static client => _ = client.SendQueuedAsync(), this, preferLocal: false);

    /// <summary>
    /// Completes the callers of replies the reader took (on the reader's thread, after it handed the
    /// reading on), then sends what they appended meanwhile, from here.
    /// </summary>
    private void FinishReplies(List<PendingRequest> replies)
    {
        _completing = this;
        try
        {
            foreach (var reply in replies)
            {
                reply.Finish();
            }
        }
        finally
        {
            _completing = null;
        }

        bool send;
        lock (_appendLock)
        {
            send = (_open is not null || _sealed.Count > 0) && ClaimSender();
        }

        if (send)
        {
            // Runs here until its first wait (a flush that cannot complete at once), usually to the end.
            _ = SendQueuedAsync();
        }
    }

    private async Task SendQueuedAsync()
    {
        while (true)
        {
            AppendMessage? message;
            lock (_appendLock)
            {
                if (!_sealed.TryDequeue(out message))
                {
                    message = _open;
                    _open = null;
                }

                if (message is null)
                {
                    _sending = false;
                    return;
                }

                if (!message.IsBatch)
                {
                    // The next message starts as large as this one ended.
                    _sizeHint = Math.Max(4096, message.Length);
                    _operationsHint = Math.Max(16, message.Operations);
                }
            }

            var id = NextId();
            var bytes = message.Seal(id, _options.DurableAppends);
            try
            {
                Register(id, message);
            }
            catch (TruthDbConnectionException ex)
            {
                message.Dispose();
                message.NotSent(ex);
                continue;
            }

            await SendAppendAsync(id, message, bytes).ConfigureAwait(false);
        }
    }

    private async Task SendAppendAsync(uint id, AppendMessage message, ReadOnlyMemory<byte> bytes)
    {
        try
        {
            await _sender.SendEncodedAsync(bytes, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // Part of the message may have left: the outcome is unknown.
            if (_pending.TryRemove(id, out var pending))
            {
                pending.Lost(new TruthDbAppendOutcomeUnknownException("The connection was lost while the append was being sent: it may or may not be in the log.", ex));
            }
        }
        finally
        {
            // The bytes were copied into the channel (or never will be): the buffer may be reused.
            message.Dispose();
        }
    }

    private void FailQueuedAppends(Exception reason)
    {
        var unsent = new List<AppendMessage>();
        lock (_appendLock)
        {
            while (_sealed.TryDequeue(out var message))
            {
                unsent.Add(message);
            }

            if (_open is { } open)
            {
                unsent.Add(open);
                _open = null;
            }
        }

        var error = new TruthDbConnectionException("The connection to the server is lost; the appends were not sent.", reason);
        foreach (var message in unsent)
        {
            message.Dispose();
            message.NotSent(error);
        }
    }
}
