namespace TruthDb.Dataflow;

/// <summary>Explicit flush: making what was written durable now.</summary>
public sealed partial class Wal
{
    /// <summary>
    /// Makes every record written so far durable (one fdatasync on the writer thread, between
    /// batches) and returns the durable LSN. With <see cref="Durability.Written"/> this is how a caller
    /// gets a power-loss guarantee for records already acknowledged, without waiting for
    /// <see cref="WalOptions.FlushInterval"/>; with <see cref="Durability.Sync"/> acknowledged records are
    /// durable already and this only returns <see cref="DurableLsn"/>.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    /// <exception cref="WalFaultedException">The log has faulted (a write or sync failed; nothing is retried).</exception>
    public ValueTask<long> FlushAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposal is not null, this);
        if (_writer.Fault is { } fault)
        {
            return ValueTask.FromException<long>(FaultedError(fault));
        }

        if (DurableLsn >= WrittenLsn)
        {
            return ValueTask.FromResult(DurableLsn);
        }

        return new ValueTask<long>(Task.Factory.StartNew(FlushOnWriter, ct, TaskCreationOptions.None, _scheduler));
    }

    // Runs on the writer thread.
    private long FlushOnWriter()
    {
        _writer.Flush();
        return _writer.Fault is { } fault ? throw FaultedError(fault) : DurableLsn;
    }

    private WalFaultedException FaultedError(Exception fault) =>
        new($"The write-ahead log in '{Directory}' has faulted; reopen it to recover.", fault);
}
