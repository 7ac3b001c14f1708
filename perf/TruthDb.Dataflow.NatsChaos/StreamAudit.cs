using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using NATS.Client.Core;

namespace TruthDb.Dataflow.NatsChaos;

/// <summary>
/// What one node serves once it leads the stream: every sequence from first to last read with
/// <c>$JS.API.STREAM.MSG.GET</c> (answered by the stream leader only), checked against what the
/// publisher sent and was acknowledged.
/// </summary>
internal sealed record AuditResult(
    string Node,
    bool Led,
    ulong Messages,
    ulong FirstSeq,
    ulong LastSeq,
    long SequenceHoles,
    long Distinct,
    long Duplicates,
    long AckedMissing,
    long OutOfOrder,
    string MissingRanges)
{
    public override string ToString() => !Led
        ? $"{Node}: could not be made leader"
        : string.Create(CultureInfo.InvariantCulture, $"{Node} leading: messages {Messages} (seq {FirstSeq}..{LastSeq}, {SequenceHoles} seq holes), distinct numbers {Distinct}, duplicates {Duplicates}, out of order {OutOfOrder}, ACKED BUT MISSING {AckedMissing}{(MissingRanges.Length > 0 ? " [" + MissingRanges + "]" : string.Empty)}");
}

internal static class StreamAudit
{
    /// <summary>Steps the leader down until <paramref name="node"/> leads (at most 30 tries).</summary>
    public static async Task<bool> MakeLeaderAsync(JetStreamApi api, string node, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 30; attempt++)
        {
            var info = await api.LedInfoAsync(TimeSpan.FromSeconds(60), ct);
            if (info.Leader == node)
            {
                return true;
            }

            await api.StepDownAsync(ct);
            for (var wait = 0; wait < 100; wait++)
            {
                await Task.Delay(100, ct);
                var after = await api.LedInfoAsync(TimeSpan.FromSeconds(60), ct);
                if (after.Leader.Length > 0 && after.Leader != info.Leader)
                {
                    break;
                }
            }
        }

        return false;
    }

    public static async Task<AuditResult> ReadThroughAsync(NatsConnection connection, JetStreamApi api, string node, ReadOnlyMemory<byte> published, CancellationToken ct)
    {
        if (!await MakeLeaderAsync(api, node, ct))
        {
            return new AuditResult(node, false, 0, 0, 0, 0, 0, 0, 0, 0, string.Empty);
        }

        var info = await api.LedInfoAsync(TimeSpan.FromSeconds(60), ct);
        var counts = new int[published.Length];
        long holes = 0, outOfOrder = 0, previous = 0;
        await using (var pipe = new RequestPipe(connection, 512, TimeSpan.FromSeconds(10)))
        {
            await pipe.StartAsync(ct);
            var subject = "$JS.API.STREAM.MSG.GET." + api.Stream;
            var inOrder = new Queue<(ulong Seq, Task<Reply> Reply)>();
            for (var seq = info.FirstSeq; seq <= info.LastSeq && info.LastSeq > 0; seq++)
            {
                var body = Encoding.UTF8.GetBytes("{\"seq\":" + seq.ToString(CultureInfo.InvariantCulture) + "}");
                inOrder.Enqueue((seq, await pipe.SendAsync(subject, body, null, ct)));
                while (inOrder.Count > 0 && (inOrder.Peek().Reply.IsCompleted || inOrder.Count > 1024))
                {
                    Tally(await TakeAsync(inOrder, api, ct));
                }
            }

            while (inOrder.Count > 0)
            {
                Tally(await TakeAsync(inOrder, api, ct));
            }
        }

        var after = await api.LedInfoAsync(TimeSpan.FromSeconds(60), ct);
        if (after.Leader != node)
        {
            throw new InvalidOperationException($"Leadership moved from {node} to {after.Leader} while its stream was read: the reading is not one node's.");
        }

        long distinct = 0, duplicates = 0, ackedMissing = 0;
        var ranges = new StringBuilder();
        var rangeCount = 0;
        long rangeStart = 0;
        var state = published.Span;
        for (var number = 1; number < counts.Length; number++)
        {
            if (counts[number] > 0)
            {
                distinct++;
                duplicates += counts[number] - 1;
            }

            var missing = counts[number] == 0 && state[number] == ChaosPublisher.Acked;
            if (missing)
            {
                ackedMissing++;
                rangeStart = rangeStart == 0 ? number : rangeStart;
            }

            if (!missing && rangeStart != 0)
            {
                if (++rangeCount <= 5)
                {
                    ranges.Append(CultureInfo.InvariantCulture, $"{(ranges.Length > 0 ? ", " : string.Empty)}{rangeStart}..{number - 1}");
                }

                rangeStart = 0;
            }
        }

        if (rangeStart != 0 && ++rangeCount <= 5)
        {
            ranges.Append(CultureInfo.InvariantCulture, $"{(ranges.Length > 0 ? ", " : string.Empty)}{rangeStart}..{counts.Length - 1}");
        }

        if (rangeCount > 5)
        {
            ranges.Append(CultureInfo.InvariantCulture, $", ... {rangeCount} ranges");
        }

        return new AuditResult(node, true, info.Messages, info.FirstSeq, info.LastSeq, holes, distinct, duplicates, ackedMissing, outOfOrder, ranges.ToString());

        void Tally((ulong Seq, byte[] Reply) item)
        {
            using var doc = JsonDocument.Parse(item.Reply);
            if (!doc.RootElement.TryGetProperty("message", out var message))
            {
                if (doc.RootElement.TryGetProperty("error", out var error) && error.GetProperty("code").GetInt32() == 404)
                {
                    holes++;
                    return;
                }

                throw new InvalidOperationException($"{node} answered sequence {item.Seq} with {doc.RootElement.GetRawText()}.");
            }

            var data = message.GetProperty("data").GetBytesFromBase64();
            var number = BinaryPrimitives.ReadInt64LittleEndian(data);
            if (number <= 0 || number >= counts.Length)
            {
                throw new InvalidOperationException($"Sequence {item.Seq} on {node} holds number {number}, never published.");
            }

            counts[number]++;
            if (number <= previous)
            {
                outOfOrder++;
            }

            previous = number;
        }
    }

    /// <summary>The next answer in sequence order; one lost in the pipeline is asked again on its own.</summary>
    private static async Task<(ulong Seq, byte[] Reply)> TakeAsync(Queue<(ulong Seq, Task<Reply> Reply)> queue, JetStreamApi api, CancellationToken ct)
    {
        var (seq, pending) = queue.Dequeue();
        var reply = await pending;
        return reply is { TimedOut: false, NoResponders: false, Data: { Length: > 0 } data }
            ? (seq, data)
            : (seq, await api.MsgBySeqAsync(seq, ct));
    }
}
