using TruthDb.Dataflow.Ipc.Protocol;
using TruthDb.Dataflow.Ipc.Tests.Support;

namespace TruthDb.Dataflow.Ipc.Tests.Server;

/// <summary>A tail whose consumer stops reading holds back only its own channel.</summary>
public sealed class FlowControlTests : IAsyncLifetime
{
    private const int Records = 20_000;
    private const int Credit = 8;
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync(durability: Durability.Written);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task StalledTail_AppendsAllComplete_ServerSendsNoMoreThanItsCredit()
    {
        await using var tailer = await _server.ConnectAsync(new TruthDbClientOptions { SubscriptionCredit = Credit });
        await using var writer = await _server.ConnectAsync(new TruthDbClientOptions { DurableAppends = false });
        await writer.AppendAsync(new byte[100]);

        // The tail reads one record and then its consumer stops (holds the enumerator, asks for nothing).
        var tail = tailer.ReadAsync(1, new ReadOptions { Follow = true, Watermark = WalWatermark.Written }, Timeouts.Token()).GetAsyncEnumerator();
        Assert.True(await tail.MoveNextAsync());

        // Appends go on at full speed meanwhile: every one of them completes.
        var payload = new byte[100];
        for (var round = 0; round < Records / 1000; round++)
        {
            var pending = new Task<long>[1000];
            for (var i = 0; i < pending.Length; i++)
            {
                pending[i] = writer.AppendAsync(payload).AsTask();
            }

            await Task.WhenAll(pending).WaitAsync(Timeouts.Token());
        }

        Assert.Equal(Records + 1, _server.Wal.WrittenLsn);

        // The server sent at most the credit's worth of Records messages (2 MB were appended).
        var counters = _server.Server.Counters;
        Assert.True(counters.RecordsMessagesSent <= Credit, $"{counters.RecordsMessagesSent} Records messages for a credit of {Credit}");
        var perMessage = ProtocolConstants.RecordsMessageBytes + (ProtocolConstants.RecordsMessageRecords * 8) + 64;
        Assert.True(counters.RecordsBytesSent <= Credit * perMessage, $"{counters.RecordsBytesSent} bytes sent to a stalled tail");

        // Resumed, the tail sees every record exactly once, in order.
        long expected = 2;
        while (expected <= Records + 1)
        {
            Assert.True(await tail.MoveNextAsync());
            Assert.Equal(expected++, tail.Current.Lsn);
        }

        await tail.DisposeAsync();
    }

    [Fact]
    public async Task ManyReads_OneConnection_AllComplete()
    {
        await using var client = await _server.ConnectAsync();
        for (var i = 0; i < 50; i++)
        {
            await client.AppendAsync(new byte[] { (byte)i });
        }

        var reads = Enumerable.Range(0, 20).Select(async _ =>
        {
            var n = 0;
            await foreach (var record in client.ReadAsync(1, ct: Timeouts.Token()))
            {
                Assert.Equal((byte)(record.Lsn - 1), record.Payload.Span[0]);
                n++;
            }

            return n;
        }).ToArray();
        Assert.All(await Task.WhenAll(reads), n => Assert.Equal(50, n));
    }
}
