using System.Diagnostics.CodeAnalysis;
using TruthDb.Dataflow.Format;

namespace TruthDb.Dataflow;

/// <summary>The append path: argument checks, then the hand-over to group commit (<c>Writing/GroupCommit.cs</c>).</summary>
public sealed partial class Wal
{
    /// <summary>
    /// Appends a record and returns its LSN once it is acknowledged under the log's
    /// <see cref="WalOptions.Durability"/>. The payload is copied before this returns, so the caller may
    /// reuse its buffer at once. When <see cref="WalOptions.MaxPendingBytes"/> are pending, waits
    /// asynchronously for room (in call order); <paramref name="ct"/> cancels only that wait: once the
    /// record is handed to the writer it will be written.
    /// </summary>
    /// <exception cref="ArgumentException">The record is larger than a segment can hold.</exception>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    /// <exception cref="WalFaultedException">The log has faulted (from the returned task).</exception>
    /// <exception cref="WalFullException">No space for the segment the record needs (from the returned task).</exception>
    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload, CancellationToken ct = default)
    {
        Admit(payload.Length);
        return _commit.AppendAsync(payload.Span, ct);
    }

    /// <summary>
    /// Appends a batch of records with one call and one acknowledgement: the records get consecutive
    /// LSNs, in order, and the returned task completes with the first of them once all are
    /// acknowledged under the log's <see cref="WalOptions.Durability"/> (they go into one segment and
    /// are written and synced together). This is the cheap way to append many small records: the
    /// per-append costs (hand-over to the writer, completion, continuation) are paid once per batch,
    /// not per record. The payloads are copied before this returns. Backpressure and
    /// <paramref name="ct"/> behave as in <see cref="AppendAsync"/>, for the whole batch. A crash before
    /// the acknowledgement may keep any prefix of the batch, as it may keep any prefix of separate
    /// appends in flight.
    /// </summary>
    /// <exception cref="ArgumentException">The batch is empty, a record is larger than a segment can hold, or the
    /// records together do not fit in one segment (the message says how much they take and what fits).</exception>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    /// <exception cref="WalFaultedException">The log has faulted (from the returned task).</exception>
    /// <exception cref="WalFullException">No space for the segment the batch needs (from the returned task).</exception>
    public ValueTask<long> AppendBatchAsync(ReadOnlySpan<ReadOnlyMemory<byte>> payloads, CancellationToken ct = default) =>
        _commit.AppendBatchAsync(payloads, AdmitBatch(payloads), ct);

    /// <summary>
    /// Appends a record if there is room right now: false (and nothing appended) when
    /// <see cref="WalOptions.MaxPendingBytes"/> are pending or other appends are waiting for room.
    /// When true, <paramref name="lsn"/> completes like <see cref="AppendAsync"/>'s result.
    /// </summary>
    /// <exception cref="ArgumentException">The record is larger than a segment can hold.</exception>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    public bool TryAppend(ReadOnlyMemory<byte> payload, out ValueTask<long> lsn)
    {
        Admit(payload.Length);
        return _commit.TryAppend(payload.Span, out lsn);
    }

    private void Admit(int length)
    {
        ObjectDisposedException.ThrowIf(_disposal is not null, this);
        if (length > _maxPayload)
        {
            ThrowTooLarge(length, _maxPayload, _options.SegmentSize, "payload");
        }
    }

    private int AdmitBatch(ReadOnlySpan<ReadOnlyMemory<byte>> payloads)
    {
        ObjectDisposedException.ThrowIf(_disposal is not null, this);
        if (payloads.IsEmpty)
        {
            throw new ArgumentException("A batch holds at least one record.", nameof(payloads));
        }

        long bytes = 0;
        long framed = 0;
        foreach (var payload in payloads)
        {
            if (payload.Length > _maxPayload)
            {
                ThrowTooLarge(payload.Length, _maxPayload, _options.SegmentSize, nameof(payloads));
            }

            bytes += payload.Length;
            framed += FrameCodec.FrameLength(payload.Length);
        }

        var fits = Math.Min(SegmentLayout.RecordsEnd(_options.SegmentSize) - SegmentLayout.RecordsStart, Array.MaxLength);
        if (framed > fits)
        {
            throw new ArgumentException(
                $"The batch's {payloads.Length} records take {framed} bytes as frames; one segment of {_options.SegmentSize} bytes holds at most {fits} (WalOptions.SegmentSize): split the batch.",
                nameof(payloads));
        }

        return (int)bytes;
    }

    [DoesNotReturn]
    private static void ThrowTooLarge(int length, long maxPayload, long segmentSize, string paramName) => throw new ArgumentException(
        $"The record is {length} bytes; the largest record a segment of {segmentSize} bytes holds is {maxPayload} bytes (WalOptions.SegmentSize).",
        paramName);
}
