using System.Text;
using System.Text.Json;
using NATS.Client.Core;

namespace TruthDb.Dataflow.NatsChaos;

/// <summary>
/// The few JetStream API requests the tool needs, as plain request/reply on <c>$JS.API.*</c>
/// (so what is asked, and of whom, is exactly what is written here). A request that times out or
/// finds no responder (no stream leader yet) is retried until the deadline.
/// </summary>
internal sealed class JetStreamApi(NatsConnection connection, string stream)
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);

    public string Stream { get; } = stream;

    public Task CreateStreamAsync(string subject, CancellationToken ct) =>
        RequestAsync(
            "$JS.API.STREAM.CREATE." + Stream,
            JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["name"] = Stream,
                ["subjects"] = new[] { subject },
                ["num_replicas"] = 3,
                ["storage"] = "file",
            }),
            TimeSpan.FromSeconds(30),
            ct);

    public async Task<StreamInfo> InfoAsync(TimeSpan patience, CancellationToken ct)
    {
        using var doc = await RequestAsync("$JS.API.STREAM.INFO." + Stream, string.Empty, patience, ct);
        var root = doc.RootElement;
        var state = root.GetProperty("state");
        var leader = string.Empty;
        var replicas = new List<ReplicaInfo>();
        if (root.TryGetProperty("cluster", out var cluster))
        {
            leader = cluster.TryGetProperty("leader", out var l) ? l.GetString() ?? string.Empty : string.Empty;
            if (cluster.TryGetProperty("replicas", out var list))
            {
                foreach (var replica in list.EnumerateArray())
                {
                    replicas.Add(new ReplicaInfo(
                        replica.GetProperty("name").GetString() ?? string.Empty,
                        replica.TryGetProperty("current", out var current) && current.GetBoolean(),
                        replica.TryGetProperty("offline", out var offline) && offline.GetBoolean(),
                        replica.TryGetProperty("lag", out var lag) ? lag.GetUInt64() : 0));
                }
            }
        }

        return new StreamInfo(
            leader,
            replicas,
            state.GetProperty("messages").GetUInt64(),
            state.GetProperty("first_seq").GetUInt64(),
            state.GetProperty("last_seq").GetUInt64());
    }

    /// <summary>Stream info once the stream has a leader (an answer without one is asked again).</summary>
    public async Task<StreamInfo> LedInfoAsync(TimeSpan patience, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var info = await InfoAsync(patience, ct);
            if (info.Leader.Length > 0)
            {
                return info;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Stream {Stream} had no leader for {patience.TotalSeconds:0} s.");
            }

            await Task.Delay(100, ct);
        }
    }

    public async Task StepDownAsync(CancellationToken ct)
    {
        using var _ = await RequestAsync("$JS.API.STREAM.LEADER.STEPDOWN." + Stream, string.Empty, TimeSpan.FromSeconds(10), ct);
    }

    /// <summary>The stream's last message on <paramref name="subject"/>: (sequence, payload), or null when it holds none.</summary>
    public async Task<(ulong Seq, byte[] Data)?> LastBySubjectAsync(string subject, TimeSpan patience, CancellationToken ct)
    {
        var request = JsonSerializer.Serialize(new Dictionary<string, string> { ["last_by_subj"] = subject });
        using var doc = await RequestAsync("$JS.API.STREAM.MSG.GET." + Stream, request, patience, ct, allowNotFound: true);
        return doc is null || !doc.RootElement.TryGetProperty("message", out var message)
            ? null
            : (message.GetProperty("seq").GetUInt64(), message.TryGetProperty("data", out var data) ? data.GetBytesFromBase64() : []);
    }

    /// <summary>The leader's answer for one sequence (a message, or a 404 error), raw JSON.</summary>
    public async Task<byte[]> MsgBySeqAsync(ulong seq, CancellationToken ct)
    {
        using var doc = await RequestAsync("$JS.API.STREAM.MSG.GET." + Stream, "{\"seq\":" + seq.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}", TimeSpan.FromSeconds(60), ct, allowNotFound: true);
        return JsonSerializer.SerializeToUtf8Bytes(doc.RootElement);
    }

    private async Task<JsonDocument> RequestAsync(string subject, string body, TimeSpan patience, CancellationToken ct, bool allowNotFound = false)
    {
        var deadline = DateTime.UtcNow + patience;
        var payload = Encoding.UTF8.GetBytes(body);
        string last = "no attempt";
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                var reply = await connection.RequestAsync<byte[], byte[]>(
                    subject,
                    payload,
                    replyOpts: new NatsSubOpts { Timeout = RequestTimeout },
                    cancellationToken: ct);
                if (reply.HasNoResponders || reply.Data is not { Length: > 0 })
                {
                    last = "no responders";
                }
                else
                {
                    var doc = JsonDocument.Parse(reply.Data);
                    if (!doc.RootElement.TryGetProperty("error", out var error))
                    {
                        return doc;
                    }

                    var code = error.TryGetProperty("code", out var c) ? c.GetInt32() : 0;
                    last = error.GetRawText();
                    if (allowNotFound && code == 404)
                    {
                        return doc;
                    }

                    doc.Dispose();
                    if (code is not (408 or 500 or 503))
                    {
                        throw new InvalidOperationException($"{subject}: {last}");
                    }
                }
            }
            catch (NatsException ex)
            {
                last = ex.Message;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{subject}: no answer within {patience.TotalSeconds:0} s (last: {last})");
            }

            await Task.Delay(200, ct);
        }
    }
}

internal sealed record ReplicaInfo(string Name, bool Current, bool Offline, ulong Lag);

internal sealed record StreamInfo(string Leader, IReadOnlyList<ReplicaInfo> Replicas, ulong Messages, ulong FirstSeq, ulong LastSeq)
{
    public bool AllCurrent => Leader.Length > 0 && Replicas.Count == 2 && Replicas.All(r => r.Current && !r.Offline && r.Lag == 0);
}
