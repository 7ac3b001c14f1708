using NATS.Client.Core;
using NATS.Client.JetStream;

namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>What many replication tests start from: records shipped into a stream, more appended and not shipped yet.</summary>
internal static class Shipping
{
    /// <summary>
    /// Appends <paramref name="shipped"/> records to <paramref name="log"/> (seed <paramref name="shipped"/>), ships
    /// them with <paramref name="options"/>, then appends <paramref name="more"/> that are not shipped (seed
    /// <paramref name="shipped"/> + 1); returns the stream's name.
    /// </summary>
    public static async Task<string> ShipAsync(TestLog log, INatsConnection nats, NatsReplicatorOptions options, int shipped, int more, CancellationToken ct)
    {
        await using var wal = await log.OpenAsync();
        await TestLog.AppendAsync(wal, shipped, seed: shipped, ct);
        using (var replicator = NatsReplicator.Create(wal, nats, options))
        {
            Assert.Equal(shipped, await replicator.CatchUpAsync(ct));
        }

        await TestLog.AppendAsync(wal, more, seed: shipped + 1, ct);
        return options.StreamName;
    }

    /// <summary>The LSN the replicator's default cursor for <paramref name="stream"/> committed in <paramref name="log"/>.</summary>
    public static long ReadCursor(TestLog log, string stream)
    {
        using var reader = WalReader.Open(log.Dir);
        return reader.GetCursor(LogNames.DefaultCursor(stream));
    }

    /// <summary>Asserts how many messages <paramref name="stream"/> holds.</summary>
    public static async Task AssertMessagesAsync(INatsConnection nats, string stream, long messages, CancellationToken ct)
    {
        var info = await new NatsJSContext(nats).GetStreamAsync(stream, cancellationToken: ct);
        Assert.Equal(messages, info.Info.State.Messages);
    }
}
