using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.LogState;

namespace TruthDb.Dataflow.Reading;

/// <summary>The log this process writes, as a read source: the writer's published view and watermarks, and their publish signal.</summary>
internal sealed class WriterReadSource(LogView view, Watermarks watermarks) : IReadSource
{
    public SegmentInfo[] Segments => view.Segments;

    public SparseIndex ActiveIndex => view.ActiveIndex;

    public uint Seed => view.Seed;

    public bool IsClosed => watermarks.IsClosed;

    // The view is published as it changes: nothing to look at again.
    public void BeginRead()
    {
    }

    public long Watermark(WalWatermark which) => which == WalWatermark.Written ? watermarks.Written : watermarks.Durable;

    // The writer's own watermarks: recovery has already refused a damaged log.
    public void CheckEnd(long limit)
    {
    }

    public async Task WaitForChangeAsync(long seen, WalWatermark which, CancellationToken ct)
    {
        // Take the signal before looking, so a publish in between is not missed.
        var changed = which == WalWatermark.Written ? watermarks.NextWrittenChange() : watermarks.NextDurableChange();
        if (Watermark(which) > seen || watermarks.IsClosed)
        {
            return;
        }

        await changed.WaitAsync(ct).ConfigureAwait(false);
    }
}
