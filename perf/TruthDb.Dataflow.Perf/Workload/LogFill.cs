namespace TruthDb.Dataflow.Perf.Workload;

/// <summary>Fills a truthdb log with a given amount of payload, fast (Written durability, 64 appends in flight).</summary>
internal static class LogFill
{
    /// <summary>Appends records of <paramref name="recordSize"/> bytes until <paramref name="mebibytes"/> MiB of payload; returns the record count.</summary>
    public static async Task<long> FillAsync(string directory, int recordSize, long mebibytes, long segmentSize, bool dispose = true)
    {
        var wal = await Wal.OpenAsync(new WalOptions { Directory = directory, Durability = Durability.Written, SegmentSize = segmentSize });
        var records = mebibytes * 1024 * 1024 / recordSize;
        await AppendAsync(wal, recordSize, records);
        if (dispose)
        {
            await wal.DisposeAsync();
        }

        return records;
    }

    /// <summary>Appends <paramref name="records"/> records with 64 appends in flight.</summary>
    public static async Task AppendAsync(Wal wal, int recordSize, long records)
    {
        const int Lanes = 64;
        var next = 0L;
        var lanes = new Task[Lanes];
        for (var l = 0; l < Lanes; l++)
        {
            lanes[l] = Task.Run(async () =>
            {
                var payload = new byte[recordSize];
                Random.Shared.NextBytes(payload);
                while (Interlocked.Increment(ref next) <= records)
                {
                    await wal.AppendAsync(payload).ConfigureAwait(false);
                }
            });
        }

        await Task.WhenAll(lanes);
    }
}
