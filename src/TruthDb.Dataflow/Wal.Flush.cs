namespace TruthDb.Dataflow;

/// <summary>Explicit flush: making what was written durable now.</summary>
public sealed partial class Wal
{
    /// <summary>
    /// Makes every record written so far durable (one fdatasync: under <see cref="Durability.Written"/>
    /// on the flusher thread, while appends go on) and returns the durable LSN. With
    /// <see cref="Durability.Written"/> this is how a caller gets a power-loss guarantee for records
    /// already acknowledged, without waiting for
    /// <see cref="WalOptions.FlushInterval"/>; with <see cref="Durability.Sync"/> acknowledged records are
    /// durable already and this only returns <see cref="DurableLsn"/>.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    /// <exception cref="WalFaultedException">The log has faulted (a write or sync failed; nothing is retried).</exception>
    public ValueTask<long> FlushAsync(CancellationToken ct = default)
    {
        // Checked and queued under the gate DisposeAsync takes: a flush is either queued before the
        // disposal begins (which runs what is queued before it ends the threads) or sees it.
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposal is not null, this);
            return _commit.FlushAsync(ct);
        }
    }
}
