using NATS.Client.JetStream;

namespace TruthDb.Dataflow.Replication.Nats.Streams;

/// <summary>Which JetStream API errors are refusals (reported at once), and which outages (retried).</summary>
internal static class ApiRefusals
{
    /// <summary>JetStream's error code for a stream that does not exist.</summary>
    public const int StreamNotFound = 10059;

    /// <summary>
    /// The failure to report for <paramref name="ex"/>: <paramref name="notFound"/> for a missing stream, the
    /// server's words for any other refusal (subjects overlapping another stream, a bad configuration);
    /// null for an outage (408, 500, 503), which is retried.
    /// </summary>
    public static ReplicationException? Refusal(NatsJSApiException ex, string stream, string notFound) =>
        ex.Error.ErrCode == StreamNotFound ? new ReplicationException(notFound, ex)
        : ex.Error.Code is 408 or 500 or 503 ? null
        : new ReplicationException($"JetStream refused a request for stream '{stream}': {ex.Error.Description} (error code {ex.Error.ErrCode}).", ex);
}
