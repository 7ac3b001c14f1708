namespace TruthDb.Dataflow;

/// <summary>Retention.</summary>
public sealed partial class Wal
{
    /// <summary>
    /// Drops whole sealed segments whose records are all below <paramref name="lsn"/> (the active
    /// segment always stays, so some records below <paramref name="lsn"/> may remain). Crash-safe and
    /// idempotent: the new first LSN is persisted before any file is deleted, and a restart finishes
    /// an interrupted truncation. Readers holding a dropped segment finish reading it; its file is
    /// deleted when the last of them moves on. Afterwards <see cref="FirstLsn"/> is the first record kept.
    /// Records a durable cursor has not committed yet are kept (<see cref="CommitCursorAsync"/>), unless
    /// <see cref="WalOptions.RetentionIgnoresCursors"/> is set.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lsn"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The log is disposed.</exception>
    public async ValueTask TruncateBeforeAsync(long lsn, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lsn);
        ObjectDisposedException.ThrowIf(_disposal is not null, this);

        if (!_options.RetentionIgnoresCursors && _cursors.Slowest() is { } slowest)
        {
            lsn = Math.Min(lsn, slowest + 1);
        }

        Task truncation;
        lock (_gate)
        {
            // Queued before the disposal begins, or not at all (as a flush is).
            ObjectDisposedException.ThrowIf(_disposal is not null, this);
            truncation = _commit.TruncateBeforeAsync(lsn, ct);
        }

        await truncation.ConfigureAwait(false);
    }
}
