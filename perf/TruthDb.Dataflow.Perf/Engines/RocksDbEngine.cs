using System.Buffers.Binary;
using RocksDbSharp;

namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// RocksDB 11.12 (the <c>RocksDB</c> package 11.12.0.7641, namespace <c>RocksDbSharp</c>, native
/// library included) as a log: each record is a <c>Put</c> under a new key (an 8-byte big-endian
/// sequence number), with the library's default options apart from <c>create_if_missing</c>.
/// <see cref="Durability.Sync"/>: <c>WriteOptions.SetSync(true)</c>, so <c>Put</c> returns after the
/// write-ahead log is written and synced (RocksDB groups concurrent writers: one leader writes and
/// syncs the WAL for the group). <see cref="Durability.Written"/>: <c>SetSync(false)</c>, <c>Put</c>
/// returns after the WAL write reached the OS. <c>Put</c> blocks, so the workload runs each producer
/// on its own thread (<see cref="IBlockingAppendEngine"/>). A batch is one <c>WriteBatch</c> written
/// with one <c>Write</c>. See perf/README.md for what strace shows.
/// </summary>
internal sealed class RocksDbEngine : IBlockingAppendEngine
{
    public const string EngineName = "rocksdb";

    private readonly RocksDb _db;
    private readonly WriteOptions _write;
    private long _sequence;

    private RocksDbEngine(RocksDb db, WriteOptions write)
    {
        _db = db;
        _write = write;
    }

    public string Name => EngineName;

    public static IAppendEngine Open(EngineSettings settings)
    {
        Directory.CreateDirectory(settings.Directory);
        var db = RocksDb.Open(new DbOptions().SetCreateIfMissing(true), settings.Directory);
        return new RocksDbEngine(db, new WriteOptions().SetSync(settings.Durability == Durability.Sync));
    }

    public long Append(ReadOnlySpan<byte> payload)
    {
        Span<byte> key = stackalloc byte[sizeof(long)];
        var sequence = Interlocked.Increment(ref _sequence);
        BinaryPrimitives.WriteInt64BigEndian(key, sequence);
        _db.Put(key, payload, null, _write);
        return sequence;
    }

    public void AppendBatch(ReadOnlyMemory<byte>[] payloads)
    {
        Span<byte> key = stackalloc byte[sizeof(long)];
        using var batch = new WriteBatch();
        var first = Interlocked.Add(ref _sequence, payloads.Length) - payloads.Length + 1;
        for (var i = 0; i < payloads.Length; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(key, first + i);
            batch.Put(key, payloads[i].Span, null);
        }

        _db.Write(batch, _write);
    }

    // For callers that are not the append workload's producer threads: the call blocks the caller.
    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload) => ValueTask.FromResult(Append(payload.Span));

    public ValueTask AppendBatchAsync(ReadOnlyMemory<byte>[] payloads)
    {
        AppendBatch(payloads);
        return ValueTask.CompletedTask;
    }

    // RocksDB counts its writes and syncs only with statistics enabled, which costs on every write.
    public EngineCounters? ReadCounters() => null;

    public ValueTask DisposeAsync()
    {
        _db.Dispose();
        return ValueTask.CompletedTask;
    }
}
