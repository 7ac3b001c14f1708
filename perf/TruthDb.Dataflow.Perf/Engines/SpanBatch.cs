namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// The batch FasterLog and TsavoriteLog take (the same interface in both): entries read by index
/// while the log copies them in.
/// </summary>
internal sealed class SpanBatch(ReadOnlyMemory<byte>[] payloads) : FASTER.core.IReadOnlySpanBatch, Tsavorite.core.IReadOnlySpanBatch
{
    public int TotalEntries() => payloads.Length;

    public ReadOnlySpan<byte> Get(int index) => payloads[index].Span;
}
