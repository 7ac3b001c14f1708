using System.Collections.Concurrent;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Tests.Storage;

namespace TruthDb.Dataflow.Tests.Support;

/// <summary>
/// Runs a seeded random workload against a <see cref="SimulatedStorage"/> and remembers what was
/// acknowledged, and what the watermarks were before every storage operation, so any crash point of
/// the trace can be checked against what the log promised at that moment.
/// </summary>
internal sealed class SimulatedWorkload
{
    public const long SegmentSize = 64 * 1024;

    private long _final;

    private SimulatedWorkload(SimulatedStorage storage, WalOptions options)
    {
        Storage = storage;
        Options = options;
    }

    public SimulatedStorage Storage { get; }

    public WalOptions Options { get; }

    /// <summary>LSN → payload of every acknowledged append.</summary>
    public ConcurrentDictionary<long, byte[]> Acknowledged { get; } = new();

    /// <summary>Every (producer, sequence) that was submitted, acknowledged or not.</summary>
    public ConcurrentDictionary<(int Producer, int Sequence), byte[]> Submitted { get; } = new();

    /// <summary>Appends that failed, with their exceptions.</summary>
    public ConcurrentBag<Exception> Failures { get; } = new();

    /// <summary>
    /// Runs the workload: <paramref name="records"/> records from <paramref name="producers"/> producers,
    /// appended one by one and in batches (<see cref="Wal.AppendBatchAsync"/>), then dispose. With
    /// <paramref name="flushEvery"/> above 0 each producer also calls <see cref="Wal.FlushAsync"/> after
    /// every that many steps, while the others go on appending.
    /// </summary>
    public static async Task<SimulatedWorkload> RunAsync(int seed, Durability durability, int producers, int records, int maxPayload = 2000, Action<SimulatedStorage>? arm = null, int flushEvery = 0)
    {
        var storage = new SimulatedStorage("sim://workload-" + seed);
        arm?.Invoke(storage);
        var workload = new SimulatedWorkload(storage, OptionsFor(storage, durability));
        await workload.RunCoreAsync(seed, producers, records, maxPayload, flushEvery);
        return workload;
    }

    /// <summary>Options for opening <paramref name="storage"/> with the workload's settings (logging to <paramref name="logger"/>, when given).</summary>
    public static WalOptions OptionsFor(IWalStorage storage, Durability durability = Durability.Sync, Microsoft.Extensions.Logging.ILogger? logger = null) => new()
    {
        Storage = storage,
        Logger = logger,
        SegmentSize = SegmentSize,
        Durability = durability,
        MaxBatchBytes = 16 * 1024,
        MaxPendingBytes = 64 * 1024,
        FlushInterval = TimeSpan.FromMilliseconds(2),
    };

    /// <summary>The written and durable watermarks as they were before trace entry <paramref name="operation"/> (or at the end).</summary>
    public (long Written, long Durable) PromisedAt(int operation)
    {
        var trace = Storage.Trace;
        long packed = 0;
        for (var i = 0; i < Math.Min(operation + 1, trace.Count); i++)
        {
            packed = Math.Max(packed, trace[i].ProbeValue ?? 0);
        }

        if (operation >= trace.Count)
        {
            packed = Math.Max(packed, _final);
        }

        return (packed >> 32, packed & 0xFFFF_FFFF);
    }

    private async Task RunCoreAsync(int seed, int producers, int records, int maxPayload, int flushEvery)
    {
        Wal? wal = null;
        Storage.Probe = () => wal is null ? 0 : (wal.WrittenLsn << 32) | wal.DurableLsn;
        wal = await Wal.OpenAsync(Options);
        try
        {
            var tasks = new Task[producers];
            for (var p = 0; p < producers; p++)
            {
                var producer = p;
                var random = new Random(seed * 1000 + p);
                tasks[p] = Task.Run(async () =>
                {
                    // Every fourth step on average is a batch of 2 to 6 of the producer's next records.
                    for (var (sequence, step) = (producer, 1); sequence < records; step++)
                    {
                        var count = random.Next(4) == 0 ? random.Next(2, 7) : 1;
                        var batch = new List<byte[]>();
                        for (; batch.Count < count && sequence < records; sequence += producers)
                        {
                            var payload = Payloads.Make(producer, sequence, random.Next(12, maxPayload));
                            Submitted[(producer, sequence)] = payload;
                            batch.Add(payload);
                        }

                        try
                        {
                            var first = batch.Count == 1
                                ? await wal.AppendAsync(batch[0])
                                : await wal.AppendBatchAsync([.. batch.Select(b => (ReadOnlyMemory<byte>)b)]);
                            for (var i = 0; i < batch.Count; i++)
                            {
                                Assert.True(Acknowledged.TryAdd(first + i, batch[i]), $"LSN {first + i} acknowledged twice");
                            }

                            if (flushEvery > 0 && step % flushEvery == 0)
                            {
                                await wal.FlushAsync();
                            }
                        }
                        catch (Exception ex) when (ex is WalFaultedException or WalFullException)
                        {
                            Failures.Add(ex);
                        }
                    }
                });
            }

            await Task.WhenAll(tasks).WaitAsync(Timeouts.Unexpected);
        }
        finally
        {
            await wal.DisposeAsync();
            _final = (wal.WrittenLsn << 32) | wal.DurableLsn;
            Storage.Probe = null;
        }
    }
}
