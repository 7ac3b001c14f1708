namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>Keeps appending small batches of random records to a log until stopped: the load that replication runs under.</summary>
internal sealed class Appender : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public Appender(Wal wal, int seed, int recordsPerBatch = 20)
    {
        _loop = Task.Run(() => LoopAsync(wal, seed, recordsPerBatch, _stop.Token));
    }

    /// <summary>Stops appending and waits for the last batch; returns the last LSN appended.</summary>
    public async Task<long> StopAsync(Wal wal)
    {
        await _stop.CancelAsync();
        await _loop;
        return await wal.FlushAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (Exception)
        {
            // Reported by StopAsync when a test gets that far.
        }

        _stop.Dispose();
    }

    private static async Task LoopAsync(Wal wal, int seed, int recordsPerBatch, CancellationToken ct)
    {
        var random = new Random(seed);
        var batch = new ReadOnlyMemory<byte>[recordsPerBatch];
        while (!ct.IsCancellationRequested)
        {
            var n = random.Next(1, recordsPerBatch + 1);
            for (var i = 0; i < n; i++)
            {
                var payload = new byte[random.Next(1, 300)];
                random.NextBytes(payload);
                batch[i] = payload;
            }

            await wal.AppendBatchAsync(batch.AsSpan(0, n), CancellationToken.None);

            // Pacing, not waiting for something: a steady load of a few thousand records/s.
            try
            {
                await Task.Delay(2, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
