using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using TruthDb.Dataflow.Replication.Nats.Batching;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>
/// Publishes into a replicated stream around the replicator, the way a stream that lost or repeated
/// messages would hold them: a log record (or a batch of records) with the replicator's headers, or a
/// changed payload, or no message id (which the duplicate window would otherwise drop).
/// </summary>
internal static class StreamPlanter
{
    /// <summary>Publishes records <paramref name="from"/> to <paramref name="to"/> of the log with the replicator's headers, one message each, in order.</summary>
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
        var (logId, records) = await ReadAsync(logDirectory, lsn, lsn, ct);
        var payload = records[0];
        if (flipFirstByte)
        {
            payload = payload.Length == 0 ? [1] : payload;
            payload[0] ^= 0xFF;
        }

        var headers = new NatsHeaders
        {
            ["TruthDb-Lsn"] = lsn.ToString(CultureInfo.InvariantCulture),
            ["TruthDb-Log-Id"] = logId,
        };
        if (withMsgId)
        {
            headers["Nats-Msg-Id"] = logId + ":" + lsn.ToString(CultureInfo.InvariantCulture);
        }

        await PublishAsync(nats, subject, payload, headers, ct);
    }

    /// <summary>
    /// Publishes records <paramref name="from"/> to <paramref name="to"/> as one batch numbered
    /// <paramref name="number"/>, with the replicator's headers (message id without the duplicate window's
    /// protection when <paramref name="withMsgId"/> is false; one record's bytes changed with <paramref name="flipLsn"/>).
    /// </summary>
    public static async Task PublishBatchAsync(INatsConnection nats, string subject, string logDirectory, long from, long to, long number, CancellationToken ct, bool withMsgId = true, long flipLsn = 0)
    {
        var (logId, records) = await ReadAsync(logDirectory, from, to, ct);
        var builder = new MessageBuilder(NatsMessageFormat.Batch, int.MaxValue, int.MaxValue);
        for (var i = 0; i < records.Count; i++)
        {
            var payload = records[i];
            if (from + i == flipLsn)
            {
                payload = payload.Length == 0 ? [1] : payload;
                payload[0] ^= 0xFF;
            }

            builder.Add(new WalRecord(from + i, payload));
        }

        var headers = new NatsHeaders
        {
            ["TruthDb-First-Lsn"] = from.ToString(CultureInfo.InvariantCulture),
            ["TruthDb-Last-Lsn"] = to.ToString(CultureInfo.InvariantCulture),
            ["TruthDb-Batch"] = number.ToString(CultureInfo.InvariantCulture),
            ["TruthDb-Log-Id"] = logId,
        };
        if (withMsgId)
        {
            headers["Nats-Msg-Id"] = string.Create(CultureInfo.InvariantCulture, $"{logId}:{from}-{to}");
        }

        await PublishAsync(nats, subject, builder.Finish().ToArray(), headers, ct);
    }

    private static async Task PublishAsync(INatsConnection nats, string subject, byte[] body, NatsHeaders headers, CancellationToken ct)
    {
        var ack = await new NatsJSContext(nats).PublishAsync(subject, body, headers: headers, cancellationToken: ct);
        ack.EnsureSuccess();
        Assert.False(ack.Duplicate, "a planted message was dropped as a duplicate");
    }

    private static async Task<(string LogId, List<byte[]> Payloads)> ReadAsync(string logDirectory, long from, long to, CancellationToken ct)
    {
        using var reader = WalReader.Open(logDirectory);
        var payloads = new List<byte[]>();
        await foreach (var record in reader.ReadAsync(from, new ReadOptions { Watermark = WalWatermark.Written }, ct))
        {
            if (record.Lsn > to)
            {
                break;
            }

            payloads.Add(record.Payload.ToArray());
        }

        Assert.Equal(to - from + 1, payloads.Count);
        return (reader.LogId.ToString("N", CultureInfo.InvariantCulture), payloads);
    }
}
