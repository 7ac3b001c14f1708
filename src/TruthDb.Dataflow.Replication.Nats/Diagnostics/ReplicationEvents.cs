using Microsoft.Extensions.Logging;

namespace TruthDb.Dataflow.Replication.Nats.Diagnostics;

/// <summary>Lifecycle events of a replicator (source-generated <see cref="LoggerMessageAttribute"/>); docs/replication.md lists them.</summary>
internal static partial class ReplicationEvents
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Created stream {Stream} (subject {Subject}, {Replicas} replica(s), {Storage} storage, duplicate window {Window}).")]
    public static partial void StreamCreated(ILogger logger, string stream, string subject, int replicas, NatsStreamStorage storage, TimeSpan window);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Stream {Stream} discards old messages when full: it will drop shipped records without telling the replicator.")]
    public static partial void DiscardsOld(ILogger logger, string stream);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Reconciled with stream {Stream}: last sequence {Seq}, last LSN in the stream {StreamLsn}, cursor {CursorLsn}; resuming at LSN {Next}.")]
    public static partial void Reconciled(ILogger logger, string stream, ulong seq, long streamLsn, long cursorLsn, long next);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Cursor {Cursor} is at LSN {CursorLsn} but stream {Stream} holds only up to LSN {StreamLsn} (sequence {Seq}): it lost records it had acknowledged (a purge, a recreated stream, a replica that stayed behind and became leader). Moving the cursor back to LSN {StreamLsn} and shipping from LSN {StreamLsn} + 1 again.")]
    public static partial void CursorAhead(ILogger logger, string cursor, long cursorLsn, string stream, long streamLsn, ulong seq);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Replication to {Stream} reconciles and retries after LSN {Lsn}: {Reason}")]
    public static partial void Retrying(ILogger logger, string stream, long lsn, string reason);

    [LoggerMessage(EventId = 105, Level = LogLevel.Error, Message = "Stream {Stream} rejected LSN {Lsn}: {Reason} (error code {Code}). Stopping; shipped up to LSN {Acked}.")]
    public static partial void Rejected(ILogger logger, string stream, long lsn, string reason, int code, long acked);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "Stream {Stream} stored the message from LSN {Lsn} at sequence {Seq}, anchored by sequence {Anchor} alone (its leader did not recognize its last message id); checked through the leader: it follows the message reconciliation read there.")]
    public static partial void AnchorVerified(ILogger logger, string stream, ulong seq, long lsn, ulong anchor);

    [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "Restoring stream {Stream} into '{Directory}': {How} the log (log id {LogId}); it ends at LSN {Lsn}.")]
    public static partial void RestoreOpened(ILogger logger, string directory, string stream, string logId, string how, long lsn);

    [LoggerMessage(EventId = 111, Level = LogLevel.Information, Message = "Restoring stream {Stream} from sequence {Seq}: the restored log ends at LSN {Lsn}.")]
    public static partial void RestorePositioned(ILogger logger, string stream, ulong seq, long lsn);

    [LoggerMessage(EventId = 112, Level = LogLevel.Warning, Message = "Restore of stream {Stream} finds its place again: {Reason}.")]
    public static partial void RestoreRepositioning(ILogger logger, string stream, string reason);

    [LoggerMessage(EventId = 113, Level = LogLevel.Warning, Message = "Restore of stream {Stream} retries after LSN {Lsn}: {Reason}")]
    public static partial void RestoreRetrying(ILogger logger, string stream, long lsn, string reason);

    [LoggerMessage(EventId = 114, Level = LogLevel.Warning, Message = "The log in '{Directory}' holds up to LSN {Lsn}, more than stream {Stream} (up to LSN {StreamLsn}): the stream lost its tail, or the log was written to after it was restored. Waiting for the stream to go further.")]
    public static partial void RestoreAhead(ILogger logger, string directory, long lsn, string stream, long streamLsn);
}
