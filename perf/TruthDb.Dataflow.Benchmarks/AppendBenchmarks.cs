using BenchmarkDotNet.Attributes;

namespace TruthDb.Dataflow.Benchmarks;

/// <summary>
/// The cost of <see cref="Wal.AppendAsync"/> through the public API, with
/// <see cref="Durability.Written"/> so the disk's sync latency is out of the picture (each batch
/// still costs one write system call into the page cache). <c>AwaitEach</c>: one append in flight,
/// awaited (a lone producer's round trip through the writer). <c>Burst</c>: 1,024 appends issued
/// without waiting, then awaited (the call overhead and the amortized writer cost per record, with
/// batches as large as the engine makes them). The memory diagnoser's "Allocated" column is per
/// append: the goal is nothing beyond the awaited task in steady state.
/// </summary>
[MemoryDiagnoser]
public class AppendBenchmarks
{
    private const int Burst = 1024;
    private readonly ValueTask<long>[] _pending = new ValueTask<long>[Burst];
    private Wal? _wal;
    private string _directory = string.Empty;
    private byte[] _payload = [];

    [Params(128)]
    public int PayloadSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "truthdb-bench-" + Guid.NewGuid().ToString("N"));
        // A large segment so the measured appends rarely roll one (a roll syncs and prepares the next).
        _wal = Wal.OpenAsync(new WalOptions { Directory = _directory, Durability = Durability.Written, SegmentSize = 1L << 30 })
            .AsTask().GetAwaiter().GetResult();
        _payload = new byte[PayloadSize];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _wal?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public async Task<long> AppendAwaitEach() => await _wal!.AppendAsync(_payload);

    [Benchmark(OperationsPerInvoke = Burst)]
    public async Task<long> AppendBurstThenAwait()
    {
        for (var i = 0; i < Burst; i++)
        {
#pragma warning disable CA2012 // Each stored ValueTask is awaited exactly once below.
            _pending[i] = _wal!.AppendAsync(_payload);
#pragma warning restore CA2012
        }

        long last = 0;
        for (var i = 0; i < Burst; i++)
        {
            last = await _pending[i];
        }

        return last;
    }
}
