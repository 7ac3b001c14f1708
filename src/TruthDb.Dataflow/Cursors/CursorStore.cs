using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Cursors;

/// <summary>
/// The durable named cursors of a log, one file each. A commit writes <c>cursor-NAME.cur.new</c>,
/// syncs it, renames it over the old file and syncs the directory: a crash leaves the old position or
/// the new one, never a torn one.
/// </summary>
/// <remarks>
/// The files are the only truth: the writer's <see cref="Wal"/> and any number of
/// <see cref="WalReader"/>s in other processes commit cursors into the same directory, so every
/// read of a position reads its file (a few dozen bytes; retention reads them all once per decision).
/// One consumer owns a cursor name: two processes committing the same name race on its temporary file.
/// </remarks>
internal sealed partial class CursorStore
{
    private readonly IWalStorage _storage;
    private readonly ILogger _logger;
    private readonly object _owner;

    // Commits and deletes run one at a time, each while it holds the one token this channel keeps (a
    // waiting one waits without holding a thread); none after Close, which takes the token to set
    // _closed (read while holding it).
    private readonly Channel<bool> _turn = Channel.CreateBounded<bool>(1);
    private volatile bool _closed;

    private CursorStore(IWalStorage storage, ILogger logger, object owner)
    {
        _storage = storage;
        _logger = logger;
        _owner = owner;
        _turn.Writer.TryWrite(true);
    }

    /// <summary>
    /// Opens the cursors of the log the writer has just recovered. One beyond <paramref name="lastLsn"/>
    /// (it covered records a power loss took back) is lowered to it, durably, so its consumer processes
    /// the records that get those LSNs next, even after another crash before it commits again.
    /// </summary>
    /// <param name="storage">The log's storage.</param>
    /// <param name="lastLsn">The last record recovery kept.</param>
    /// <param name="logger">Where a lowered or damaged cursor is reported.</param>
    /// <param name="owner">The log that owns the store: <see cref="ObjectDisposedException"/> names it once <see cref="CloseAsync"/> ran.</param>
    /// <exception cref="WalCorruptedException">A cursor file is damaged.</exception>
    public static CursorStore Load(IWalStorage storage, long lastLsn, ILogger logger, object owner)
    {
        var store = new CursorStore(storage, logger, owner);
        foreach (var (name, lsn) in store.ReadAll())
        {
            if (lsn > lastLsn)
            {
                LogCursorLowered(logger, name, lsn, lastLsn);
                AtomicFile.Write(storage, CursorFile.FileName(name), CursorFile.Encode(lastLsn));
            }
        }

        return store;
    }

    /// <summary>The cursors of a log seen from a reader (no recovery: the writer lowers cursors when it opens).</summary>
    /// <param name="storage">The log's storage.</param>
    /// <param name="logger">Where a damaged cursor is reported.</param>
    /// <param name="owner">The reader that owns the store: <see cref="ObjectDisposedException"/> names it once <see cref="CloseAsync"/> ran.</param>
    public static CursorStore Open(IWalStorage storage, ILogger logger, object owner) => new(storage, logger, owner);

    /// <summary>Every cursor and its committed LSN, as the files say now.</summary>
    /// <exception cref="WalCorruptedException">A cursor file is damaged.</exception>
    public IReadOnlyDictionary<string, long> ReadAll()
    {
        var positions = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var fileName in _storage.ListFiles())
        {
            if (CursorFile.TryParseFileName(fileName, out var name) && TryRead(name, out var lsn))
            {
                positions[name] = lsn;
            }
        }

        return positions;
    }

    /// <summary>The LSN cursor <paramref name="name"/> committed; 0 when it has none.</summary>
    /// <exception cref="WalCorruptedException">The cursor's file is damaged.</exception>
    public long Get(string name) => TryRead(name, out var lsn) ? lsn : 0;

    /// <summary>
    /// The smallest committed LSN, or null when there is no cursor; for retention, which must not
    /// remove what a cursor still needs: a damaged cursor file counts as a cursor at 0 (keep everything).
    /// </summary>
    public long? Slowest()
    {
        long? slowest = null;
        foreach (var fileName in _storage.ListFiles())
        {
            if (!CursorFile.TryParseFileName(fileName, out var name))
            {
                continue;
            }

            long position;
            try
            {
                if (!TryRead(name, out position))
                {
                    continue;
                }
            }
            catch (WalCorruptedException ex)
            {
                LogCursorDamaged(_logger, ex, name);
                position = 0;
            }

            slowest = slowest is null ? position : Math.Min(slowest.Value, position);
        }

        return slowest;
    }

    /// <summary>
    /// Durably records that the consumer <paramref name="name"/> has processed every record up to
    /// <paramref name="lsn"/>, which must be from 0 to <paramref name="writtenLsn"/> (checked now).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lsn"/> is negative or beyond <paramref name="writtenLsn"/>.</exception>
    /// <exception cref="ObjectDisposedException">The store was closed.</exception>
    public ValueTask CommitAsync(string name, long lsn, long writtenLsn, CancellationToken ct)
    {
        if (lsn < 0 || lsn > writtenLsn)
        {
            throw new ArgumentOutOfRangeException(nameof(lsn), lsn, $"A cursor can be committed from 0 to the written LSN ({writtenLsn}).");
        }

        return CommitCoreAsync(name, lsn, ct);
    }

    /// <summary>Removes a cursor (durably); false when it did not exist.</summary>
    /// <exception cref="ObjectDisposedException">The store was closed.</exception>
    public ValueTask<bool> DeleteAsync(string name, CancellationToken ct) =>
        ChangeAsync(
            () =>
            {
                if (AtomicFile.Read(_storage, CursorFile.FileName(name)) is null)
                {
                    return false;
                }

                _storage.Delete(CursorFile.FileName(name));
                _storage.SyncDirectory();
                return true;
            },
            ct);

    /// <summary>
    /// Waits for the commit or delete in progress, if any, to finish; the ones after fail with
    /// <see cref="ObjectDisposedException"/> before they touch a file. So a commit racing the owner's
    /// disposal either finishes before the owner lets the directory go or writes nothing, and the
    /// caller is told which.
    /// </summary>
    public async ValueTask CloseAsync()
    {
        await _turn.Reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
        _closed = true;
        _turn.Writer.TryWrite(true);
    }

    private async ValueTask CommitCoreAsync(string name, long lsn, CancellationToken ct) =>
        await ChangeAsync(
            () =>
            {
                AtomicFile.Write(_storage, CursorFile.FileName(name), CursorFile.Encode(lsn));
                return lsn;
            },
            ct).ConfigureAwait(false);

    private async ValueTask<T> ChangeAsync<T>(Func<T> change, CancellationToken ct)
    {
        await _turn.Reader.ReadAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_closed, _owner);
            return change();
        }
        finally
        {
            _turn.Writer.TryWrite(true);
        }
    }

    // False when the cursor has no file (never committed, deleted, or removed between a listing and the read).
    private bool TryRead(string name, out long lsn)
    {
        var fileName = CursorFile.FileName(name);
        if (AtomicFile.Read(_storage, fileName) is not { } bytes)
        {
            lsn = 0;
            return false;
        }

        if (!CursorFile.TryDecode(bytes, out lsn))
        {
            throw new WalCorruptedException(
                $"The write-ahead log's file of cursor '{name}' ('{fileName}' in '{_storage.DirectoryPath}') is damaged: its committed LSN is unknown. Nothing was changed; "
                + "'truthdb repair' commits the cursor again at LSN 0 (its consumer then reads again from the first record) and keeps the file's bytes in quarantine.");
        }

        return true;
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Cursor '{Cursor}' was committed at LSN {Committed}, beyond the recovered end of the log (LSN {LastLsn}); it is lowered to that LSN, so the records that get the lost LSNs next are processed.")]
    private static partial void LogCursorLowered(ILogger logger, string cursor, long committed, long lastLsn);

    [LoggerMessage(EventId = 21, Level = LogLevel.Error, Message = "The file of cursor '{Cursor}' is damaged; retention keeps every record until it is committed again or deleted.")]
    private static partial void LogCursorDamaged(ILogger logger, Exception error, string cursor);
}
