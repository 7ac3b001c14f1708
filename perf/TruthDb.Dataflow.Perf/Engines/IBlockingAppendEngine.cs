namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// An engine whose append call blocks until the record is acknowledged (RocksDB's <c>Put</c>). The
/// append workload gives each producer a dedicated thread that calls <see cref="Append"/> in a loop,
/// as such an engine is used, instead of an async producer on the thread pool.
/// </summary>
internal interface IBlockingAppendEngine : IAppendEngine
{
    /// <summary>Appends <paramref name="payload"/> and returns its position (key) once it is acknowledged.</summary>
    long Append(ReadOnlySpan<byte> payload);

    /// <summary>Appends <paramref name="payloads"/> as one batch and returns once all are acknowledged.</summary>
    void AppendBatch(ReadOnlyMemory<byte>[] payloads);
}
