namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>A temporary log directory (deleted afterwards) named so that its default log name is unique.</summary>
internal sealed class TestLog : IDisposable
{
    public TestLog()
    {
        Root = Path.Combine(Path.GetTempPath(), "truthdb-replication-tests", Guid.NewGuid().ToString("N"));
        Name = "log-" + Guid.NewGuid().ToString("N")[..12];
        Dir = Path.Combine(Root, Name);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>The directory's name: the replicator's default log name, so the subject is <c>truthdb.&lt;Name&gt;</c>.</summary>
    public string Name { get; }

    public string Dir { get; }

    public string Subject => "truthdb." + Name;

    public WalOptions Options(Durability durability = Durability.Written) => new()
    {
        Directory = Dir,
        Durability = durability,
        SegmentSize = 4L * 1024 * 1024,
        FlushInterval = TimeSpan.FromMilliseconds(5),
    };

    public Task<Wal> OpenAsync(Durability durability = Durability.Written) => Wal.OpenAsync(Options(durability)).AsTask();

    /// <summary>Appends <paramref name="count"/> records of pseudo-random sizes (0 to <paramref name="maxSize"/> bytes, content from the seed), in batches.</summary>
    public static async Task AppendAsync(Wal wal, int count, int seed, CancellationToken ct, int maxSize = 600)
    {
        var random = new Random(seed);
        var batch = new ReadOnlyMemory<byte>[Math.Min(500, count)];
        for (var done = 0; done < count;)
        {
            var n = Math.Min(batch.Length, count - done);
            for (var i = 0; i < n; i++)
            {
                var payload = new byte[random.Next(0, maxSize + 1)];
                random.NextBytes(payload);
                batch[i] = payload;
            }

            await wal.AppendBatchAsync(batch.AsSpan(0, n), ct);
            done += n;
        }

        await wal.FlushAsync(ct);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
