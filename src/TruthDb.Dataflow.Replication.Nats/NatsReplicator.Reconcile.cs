using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TruthDb.Dataflow.Replication.Nats.Diagnostics;
using TruthDb.Dataflow.Replication.Nats.Publishing;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>Reconciliation: where to resume, from the stream's last message and the cursor.</summary>
public sealed partial class NatsReplicator
{
    private const int NoMessageFound = 10037;

    /// <summary>
    /// Reads the stream's state and its last message on <see cref="Subject"/>, checks that they belong to
    /// this log, and returns where to resume: after max(cursor, last LSN in the stream), with the
    /// stream's last sequence as the expectation for the first publish. Raises the cursor to what the
    /// stream already holds (a crash after the acknowledgement, before the cursor commit).
    /// </summary>
    private async Task<ResumePoint> ReconcileAsync(CancellationToken ct)
    {
        var stream = await _js.GetStreamAsync(StreamName, cancellationToken: ct);
        var lastSeq = stream.Info.State.LastSeq;
        var last = await LastShippedAsync(stream, lastSeq, ct);
        var cursor = _source.GetCursor(CursorName);
        var written = _source.WrittenLsn;
        if (last > written)
        {
            throw new ReplicationException(
                $"The stream '{StreamName}' holds LSN {last} of this log, but the log ends at LSN {written}: the log lost records the stream has (restored from an older copy?). Replication cannot go on into this stream.");
        }

        if (cursor > last)
        {
            ReplicationEvents.CursorAhead(_logger, CursorName, cursor, StreamName, last);
        }

        var resume = Math.Max(cursor, last);
        if (resume > cursor)
        {
            await _source.CommitCursorAsync(CursorName, resume, ct);
        }

        Interlocked.Exchange(ref _cursorLsn, resume);
        ReplicationEvents.Reconciled(_logger, StreamName, lastSeq, last, cursor, resume + 1);
        return new ResumePoint(resume, lastSeq);
    }

    /// <summary>The LSN of the stream's last message, which must be this log's; 0 when the stream holds none on the subject.</summary>
    private async Task<long> LastShippedAsync(INatsJSStream stream, ulong lastSeq, CancellationToken ct)
    {
        StoredMessage message;
        try
        {
            var response = await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = Subject }, ct);
            message = response.Message;
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == NoMessageFound || ex.Error.Code == 404)
        {
            return 0;
        }

        if (!MessageHeaders.TryParseStored(message.Hdrs, out var lsn, out var logId))
        {
            throw new ReplicationException(
                $"The last message on '{Subject}' in stream '{StreamName}' (sequence {message.Seq}) was not published by a TruthDb replicator (no {MessageHeaders.Lsn} and {MessageHeaders.LogId} headers).");
        }

        if (!string.Equals(logId, _logId, StringComparison.OrdinalIgnoreCase))
        {
            throw new ReplicationException(
                $"The stream '{StreamName}' is fed by another log: its last message on '{Subject}' (sequence {message.Seq}, LSN {lsn}) has log id {logId}, this log's id is {_logId}. Use another stream or subject.");
        }

        if (message.Seq != lastSeq)
        {
            throw new ReplicationException(
                $"The stream '{StreamName}' has messages after this log's last one (sequence {message.Seq}, LSN {lsn}; the stream's last sequence is {lastSeq}): something else publishes into it. A replicated stream must hold one log only.");
        }

        return lsn;
    }

    /// <summary>Resume after <paramref name="Lsn"/>; the stream's last sequence is <paramref name="LastSequence"/>.</summary>
    private readonly record struct ResumePoint(long Lsn, ulong LastSequence);
}
