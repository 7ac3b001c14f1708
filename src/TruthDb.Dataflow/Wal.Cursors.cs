using TruthDb.Dataflow.Format;

namespace TruthDb.Dataflow;

/// <summary>Durable named cursors: where each consumer of the log has got to.</summary>
public sealed partial class Wal
{
    /// <summary>
    /// Every cursor and the LSN it committed, read from the cursor files now (so it includes cursors
    /// that <see cref="WalReader"/>s in other processes commit).
    /// </summary>
    /// <exception cref="WalCorruptedException">A cursor file is damaged (the message names it); no cursor is left out.</exception>
    public IReadOnlyDictionary<string, long> Cursors => _cursors.ReadAll();

    /// <summary>The LSN cursor <paramref name="name"/> committed (here or by a <see cref="WalReader"/>); 0 when it has none yet.</summary>
    /// <exception cref="ArgumentException">The name is not a valid cursor name.</exception>
    /// <exception cref="WalCorruptedException">The cursor's file is damaged.</exception>
    public long GetCursor(string name)
    {
        CursorFile.ValidateName(name);
        return _cursors.Get(name);
    }

    /// <summary>
    /// Durably records that consumer <paramref name="name"/> has processed every record up to
    /// <paramref name="lsn"/> (write to a temporary file, sync, rename, sync the directory). After a
    /// crash, the cursor is at the last committed position: a consumer resuming with
    /// <see cref="ReadFromCursorAsync"/> skips nothing and sees again only what came after it.
    /// While cursors exist, <see cref="TruncateBeforeAsync"/> keeps the records after the slowest one
    /// (unless <see cref="WalOptions.RetentionIgnoresCursors"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a valid cursor name (1 to 100 of A-Z a-z 0-9 . _ -).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lsn"/> is negative or beyond <see cref="WrittenLsn"/>.</exception>
    public ValueTask CommitCursorAsync(string name, long lsn, CancellationToken ct = default)
    {
        CursorFile.ValidateName(name);
        ObjectDisposedException.ThrowIf(_disposal is not null, this);
        return _cursors.CommitAsync(name, lsn, WrittenLsn, ct);
    }

    /// <summary>Removes cursor <paramref name="name"/> durably; false when it did not exist.</summary>
    /// <exception cref="ArgumentException">The name is not a valid cursor name.</exception>
    public ValueTask<bool> DeleteCursorAsync(string name, CancellationToken ct = default)
    {
        CursorFile.ValidateName(name);
        ObjectDisposedException.ThrowIf(_disposal is not null, this);
        return _cursors.DeleteAsync(name, ct);
    }

    /// <summary>
    /// Reads from just after cursor <paramref name="name"/>'s committed LSN (from the first record when
    /// it has none), like <see cref="ReadAsync"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a valid cursor name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Retention removed records after the cursor (only possible with
    /// <see cref="WalOptions.RetentionIgnoresCursors"/>) and <see cref="ReadOptions.StartAtFirstAvailable"/> is not set.</exception>
    public IAsyncEnumerable<WalRecord> ReadFromCursorAsync(string name, ReadOptions? options = null, CancellationToken ct = default) =>
        ReadAsync(GetCursor(name) + 1, options, ct);
}
