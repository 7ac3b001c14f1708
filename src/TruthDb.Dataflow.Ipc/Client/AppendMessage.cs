using System.Buffers;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc.Client;

/// <summary>
/// One Append message, from the first append that joins it to its reply. Each append's payload is
/// encoded (copied) into the message's buffer as it joins, so the caller's buffer is free as soon as
/// <see cref="TruthDbClient.AppendAsync"/> returns. Sealed and sent by the client's sender, the buffer
/// is released once its bytes are in the channel (also when the send failed); the message stays
/// registered until its reply and then completes its appends with consecutive LSNs, in the order they
/// joined. A message of <see cref="TruthDbClient.AppendBatchAsync"/> has one completion for all its records.
/// </summary>
internal sealed class AppendMessage : PendingRequest, IDisposable
{
    private readonly List<AppendOperation> _operations;
    private readonly bool _batch;
    private MessageBuffer? _buffer;
    private int _records;
    private long _firstLsn;
    private Exception? _failure;

    public AppendMessage(int sizeHint, int operationsHint, bool batch)
    {
        _buffer = new MessageBuffer(sizeHint);
        _operations = new List<AppendOperation>(operationsHint);
        _batch = batch;
        AppendEncoding.Begin(_buffer);
    }

    /// <summary>Bytes encoded so far (length prefix included).</summary>
    public int Length => _buffer?.Length ?? 0;

    /// <summary>Records in the message.</summary>
    public int Records => _records;

    /// <summary>Whether this is an AppendBatchAsync's message (one completion for all its records).</summary>
    public bool IsBatch => _batch;

    /// <summary>Appends that complete from this message.</summary>
    public int Operations => _operations.Count;

    /// <summary>Whether a payload of <paramref name="length"/> bytes may join without exceeding the limits.</summary>
    public bool Fits(int length, int maxRecords, int maxMessageSize) =>
        _records < maxRecords && Length + AppendEncoding.PayloadSize(length) + 1 <= maxMessageSize;

    /// <summary>Joins one append: copies its payload into the message.</summary>
    public void Add(ReadOnlySpan<byte> payload, AppendOperation operation)
    {
        AppendEncoding.Add(_buffer!, payload);
        _records++;
        _operations.Add(operation);
    }

    /// <summary>Joins a batch whose one completion gets the first LSN (the message holds only it).</summary>
    public void AddBatch(ReadOnlySpan<ReadOnlyMemory<byte>> payloads, AppendOperation operation)
    {
        foreach (var payload in payloads)
        {
            AppendEncoding.Add(_buffer!, payload.Span);
        }

        _records = payloads.Length;
        _operations.Add(operation);
    }

    /// <summary>Completes the encoding with the request id; the bytes stay valid until <see cref="Dispose"/>.</summary>
    public ReadOnlyMemory<byte> Seal(uint id, bool durable) => AppendEncoding.Seal(_buffer!, id, _records, durable);

    /// <summary>Returns the buffer to the pool: the message's bytes were copied into the channel, or never will be.</summary>
    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = null;
        buffer?.Dispose();
    }

    public override bool Complete(MessageType type, ReadOnlySequence<byte> body)
    {
        try
        {
            if (type == MessageType.Error)
            {
                _failure = ErrorFrom(body);
            }
            else if (type == MessageType.AppendReply && MessageCodec.ReadBody<AppendReply>(body) is { } reply && reply.Count == _records)
            {
                _firstLsn = reply.FirstLsn;
            }
            else
            {
                _failure = new TruthDbAppendOutcomeUnknownException($"The server's reply to an append of {_records} records does not match it.");
            }
        }
        catch (MessagePack.MessagePackSerializationException ex)
        {
            _failure = new TruthDbAppendOutcomeUnknownException("The server's reply to an append could not be decoded: " + ex.Message);
        }

        return true;
    }

    // An operation may be recycled by its caller as soon as it is completed: it is not touched again.
    public override void Finish()
    {
        if (_failure is { } failure)
        {
            FailAll(failure);
            return;
        }

        for (var i = 0; i < _operations.Count; i++)
        {
            _operations[i].Succeed(_batch ? _firstLsn : _firstLsn + i);
        }
    }

    public override void Lost(Exception reason)
    {
        var unknown = reason as TruthDbAppendOutcomeUnknownException
            ?? new TruthDbAppendOutcomeUnknownException("The connection was lost after the append was sent and before its reply: it may or may not be in the log.", reason);
        FailLater(unknown);
    }

    /// <summary>Fails the appends of a message that was never sent (they are not in the log).</summary>
    public void NotSent(Exception reason) => FailLater(reason);

    // Failures come from the sender or from the end of the connection: the callers' continuations run
    // on the pool, never inside those.
    private void FailLater(Exception error) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Message.FailAll(s.Error), (Message: this, Error: error), preferLocal: false);

    private void FailAll(Exception error)
    {
        foreach (var operation in _operations)
        {
            operation.Fail(error);
        }
    }
}
