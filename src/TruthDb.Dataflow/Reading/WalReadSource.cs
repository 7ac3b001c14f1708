namespace TruthDb.Dataflow.Reading;

/// <summary>The writing log as a read source: in-process watermarks and their publish signal.</summary>
internal sealed class WalReadSource(Writing.LogWriter writer, Writing.Watermarks watermarks) : IReadSource
{
    public Format.SegmentInfo[] Segments => writer.Segments;

    public Format.SparseIndex ActiveIndex => writer.ActiveIndex;

    public uint Seed => writer.LogId.Seed;

    public bool IsClosed => watermarks.IsClosed;

    public long Watermark(WalWatermark which) => which == WalWatermark.Written ? watermarks.Written : watermarks.Durable;

    // The writer's own watermarks: recovery has already refused a damaged log.
    public void CheckEnd(long limit)
    {
    }

    public async Task WaitForChangeAsync(long seen, WalWatermark which, CancellationToken ct)
    {
        // Take the signal before looking, so a publish in between is not missed.
        var changed = watermarks.NextChange();
        if (Watermark(which) > seen || watermarks.IsClosed)
        {
            return;
        }

        await changed.WaitAsync(ct).ConfigureAwait(false);
    }
}
