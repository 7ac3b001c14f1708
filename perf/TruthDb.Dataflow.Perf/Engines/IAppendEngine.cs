namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// What the harness asks of a log engine: append one record and complete once the record is
/// acknowledged under the engine's durability. Every engine is opened fresh in an empty directory
/// for each run and disposed (drained) at its end.
/// </summary>
internal interface IAppendEngine : IAsyncDisposable
{
    /// <summary>The engine's name in tables and JSON (<c>truthdb</c>, <c>fasterlog</c>, <c>fasterlog-fast</c>, <c>filestream</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Appends <paramref name="payload"/>; completes with the record's position (LSN or offset) once it
    /// is acknowledged. The caller does not touch the buffer until then.
    /// </summary>
    ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload);

    /// <summary>
    /// Appends <paramref name="payloads"/> with the engine's batch API where it has one; completes once
    /// every record is acknowledged. The caller does not touch the buffers until then.
    /// </summary>
    ValueTask AppendBatchAsync(ReadOnlyMemory<byte>[] payloads);

    /// <summary>The engine's cumulative writer counters, or null when it keeps none.</summary>
    EngineCounters? ReadCounters();
}
