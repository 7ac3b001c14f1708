using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>What a stream holds, compared with the log it was fed from.</summary>
internal static class StreamChecks
{
    /// <summary>One record as the stream holds it: the sequence of its message, its LSN, the message's log id and message id, its bytes.</summary>
    internal sealed record StoredRecord(ulong Sequence, long Lsn, string LogId, string MsgId, byte[] Data);

    /// <summary>
    /// Every record of <paramref name="stream"/>, in stream order: a record message gives one, a batch
    /// (decoded with <see cref="RecordBatch"/>) its records; each batch must hold the LSNs its headers and
    /// message id name, and follow its predecessor (LSNs and batch number). Messages are read with
    /// ordered-consumer fetches of up to 1,000 messages; a consumer that delivers nothing for a fetch's
    /// 5 s (its server restarted, a replica still catching up) is replaced by a new one that starts at
    /// the next sequence.
    /// </summary>
    public static async Task<List<StoredRecord>> ReadAllAsync(INatsConnection connection, string stream, CancellationToken ct)
    {
        var js = new NatsJSContext(connection);
        var info = await js.GetStreamAsync(stream, cancellationToken: ct);
        var last = info.Info.State.LastSeq;
        var records = new List<StoredRecord>((int)info.Info.State.Messages);
        var next = info.Info.State.FirstSeq;
        long previousBatch = 0;
        while (info.Info.State.Messages > 0 && next <= last)
        {
            var consumer = await js.CreateOrderedConsumerAsync(stream, new NatsJSOrderedConsumerOpts
            {
                DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence,
                OptStartSeq = next,
            }, ct);
            var fetched = 0;
            do
            {
                fetched = 0;
                await foreach (var msg in consumer.FetchAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 1_000, Expires = TimeSpan.FromSeconds(5) }, cancellationToken: ct))
                {
                    var seq = msg.Metadata?.Sequence.Stream ?? 0;
                    if (seq < next)
                    {
                        continue;
                    }

                    previousBatch = Expand(seq, msg.Headers, msg.Data ?? [], records, previousBatch);
                    next = seq + 1;
                    fetched++;
                }
            }
            while (fetched > 0 && next <= last);
        }

        return records;
    }

    // Adds the records of one message; returns its batch number (0 for a record message).
    private static long Expand(ulong seq, NatsHeaders? headers, byte[] data, List<StoredRecord> records, long previousBatch)
    {
        var logId = Header(headers, "TruthDb-Log-Id");
        var msgId = Header(headers, "Nats-Msg-Id");
        if (Header(headers, "TruthDb-First-Lsn") is not { Length: > 0 } firstText)
        {
            long.TryParse(Header(headers, "TruthDb-Lsn"), NumberStyles.None, CultureInfo.InvariantCulture, out var lsn);
            records.Add(new StoredRecord(seq, lsn, logId, msgId, data));
            return 0;
        }

        var first = long.Parse(firstText, CultureInfo.InvariantCulture);
        var lastLsn = long.Parse(Header(headers, "TruthDb-Last-Lsn"), CultureInfo.InvariantCulture);
        var number = long.Parse(Header(headers, "TruthDb-Batch"), CultureInfo.InvariantCulture);
        var batch = RecordBatch.Decode(data);
        Assert.True((first, lastLsn) == (batch.FirstLsn, batch.LastLsn), $"sequence {seq}: the headers say LSN {first} to {lastLsn}, the body holds {batch.FirstLsn} to {batch.LastLsn}");
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"{logId}:{first}-{lastLsn}"), msgId);
        if (previousBatch > 0)
        {
            Assert.True(number == previousBatch + 1, $"sequence {seq} holds batch {number} after batch {previousBatch}");
            Assert.True(records.Count == 0 || records[^1].Lsn + 1 == first, $"sequence {seq} starts at LSN {first} after LSN {records[^1].Lsn}");
        }

        foreach (var record in batch)
        {
            records.Add(new StoredRecord(seq, record.Lsn, logId, msgId, record.Payload.ToArray()));
        }

        return number;
    }

    /// <summary>
    /// Asserts that <paramref name="stream"/> holds LSN 1 to <paramref name="lastLsn"/> of the log in
    /// <paramref name="logDirectory"/>, each exactly once, in order, byte-exact, with the right ids.
    /// </summary>
    public static async Task AssertHoldsLogAsync(INatsConnection connection, string stream, string logDirectory, long lastLsn, CancellationToken ct)
    {
        var stored = await ReadAllAsync(connection, stream, ct);
        using var reader = WalReader.Open(logDirectory);
        var logId = reader.LogId.ToString("N", CultureInfo.InvariantCulture);
        var index = 0;
        await foreach (var record in reader.ReadAsync(1, new ReadOptions { Watermark = WalWatermark.Written }, ct))
        {
            if (record.Lsn > lastLsn)
            {
                break;
            }

            Assert.True(index < stored.Count, $"The stream ends after {stored.Count} records; LSN {record.Lsn} is missing.");
            var message = stored[index];
            if (message.Lsn != record.Lsn)
            {
                Assert.Fail($"Record {index + 1} (sequence {message.Sequence}) is LSN {message.Lsn}, expected LSN {record.Lsn}.");
            }

            Assert.Equal(logId, message.LogId);
            if (!message.MsgId.Contains('-', StringComparison.Ordinal))
            {
                // One record per message (a batch's id was checked when it was read).
                Assert.Equal(logId + ":" + record.Lsn.ToString(CultureInfo.InvariantCulture), message.MsgId);
            }

            if (!record.Payload.Span.SequenceEqual(message.Data))
            {
                Assert.Fail($"LSN {record.Lsn}: the stream holds {message.Data.Length} bytes that differ from the log's {record.Payload.Length}.");
            }

            index++;
        }

        Assert.Equal(lastLsn, index);
        Assert.Equal(lastLsn, stored.Count);
    }

    private static string Header(NatsHeaders? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var value) ? value.ToString() : string.Empty;
}
