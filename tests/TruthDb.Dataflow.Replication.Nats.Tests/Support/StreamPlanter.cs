using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>
/// Publishes into a replicated stream around the replicator, the way a stream that lost or repeated
/// messages would hold them: a log record with the replicator's headers (or a changed payload, or no
/// message id, which the duplicate window would otherwise drop).
/// </summary>
internal static class StreamPlanter
{
    /// <summary>Publishes records <paramref name="from"/> to <paramref name="to"/> of the log with the replicator's headers, in order.</summary>
    public static async Task PublishRecordsAsync(INatsConnection nats, string subject, string logDirectory, long from, long to, CancellationToken ct)
    {
        for (var lsn = from; lsn <= to; lsn++)
        {
            await PublishRecordAsync(nats, subject, logDirectory, lsn, ct);
        }
    }

    /// <summary>Publishes record <paramref name="lsn"/> of the log in <paramref name="logDirectory"/> with the replicator's headers.</summary>
    public static async Task PublishRecordAsync(INatsConnection nats, string subject, string logDirectory, long lsn, CancellationToken ct, bool withMsgId = true, bool flipFirstByte = false)
    {
        using var reader = WalReader.Open(logDirectory);
        byte[]? payload = null;
        await foreach (var record in reader.ReadAsync(lsn, new ReadOptions { Watermark = WalWatermark.Written }, ct))
        {
            payload = record.Payload.ToArray();
            break;
        }

        Assert.NotNull(payload);
        if (flipFirstByte)
        {
            payload = payload.Length == 0 ? [1] : payload;
            payload[0] ^= 0xFF;
        }

        var logId = reader.LogId.ToString("N", CultureInfo.InvariantCulture);
        var headers = new NatsHeaders
        {
            ["TruthDb-Lsn"] = lsn.ToString(CultureInfo.InvariantCulture),
            ["TruthDb-Log-Id"] = logId,
        };
        if (withMsgId)
        {
            headers["Nats-Msg-Id"] = logId + ":" + lsn.ToString(CultureInfo.InvariantCulture);
        }

        var ack = await new NatsJSContext(nats).PublishAsync(subject, payload, headers: headers, cancellationToken: ct);
        ack.EnsureSuccess();
        Assert.False(ack.Duplicate, $"the planted LSN {lsn} was dropped as a duplicate");
    }
}
