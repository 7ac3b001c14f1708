using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Cursors;

/// <summary>
/// The durable named cursors of a log. A commit writes <c>cursor-NAME.cur.new</c>, syncs it, renames
/// it over the old file and syncs the directory: a crash leaves the old position or the new one,
/// never a torn one. Commits are serialized; reads of the positions are lock-free.
/// </summary>
internal sealed partial class CursorStore : IDisposable
{
    private readonly IWalStorage _storage;
    private readonly ConcurrentDictionary<string, long> _positions = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _commits = new(1, 1);

    private CursorStore(IWalStorage storage) => _storage = storage;

    /// <summary>Every cursor and its committed LSN.</summary>
    public IReadOnlyDictionary<string, long> Positions => _positions;

    /// <summary>The smallest committed LSN, or null when there is no cursor.</summary>
    public long? Slowest
    {
        get
        {
            long? slowest = null;
            foreach (var position in _positions.Values)
            {
                slowest = slowest is null ? position : Math.Min(slowest.Value, position);
            }

            return slowest;
        }
    }

    /// <summary>
    /// Loads the cursors. One beyond <paramref name="lastLsn"/> (it covered records a power loss took
    /// back) is lowered to it, so its consumer will process the records that get those LSNs next.
    /// </summary>
    public static CursorStore Load(IWalStorage storage, long lastLsn, ILogger logger)
    {
        var store = new CursorStore(storage);
        foreach (var fileName in storage.ListFiles())
        {
            if (!CursorFile.TryParseFileName(fileName, out var name))
            {
                continue;
            }

            var bytes = AtomicFile.Read(storage, fileName) ?? [];
            if (!CursorFile.TryDecode(bytes, out var lsn))
            {
                throw new WalCorruptedException(fileName, 0, $"the file of cursor '{name}' is damaged");
            }

            if (lsn > lastLsn)
            {
                LogCursorLowered(logger, name, lsn, lastLsn);
                lsn = lastLsn;
            }

            store._positions[name] = lsn;
        }

        return store;
    }

    /// <summary>Durably records that the consumer <paramref name="name"/> has processed every record up to <paramref name="lsn"/>.</summary>
    public async ValueTask CommitAsync(string name, long lsn, CancellationToken ct)
    {
        await _commits.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            AtomicFile.Write(_storage, CursorFile.FileName(name), CursorFile.Encode(lsn));
            _positions[name] = lsn;
        }
        finally
        {
            _commits.Release();
        }
    }

    /// <summary>Removes a cursor (durably); false when it did not exist.</summary>
    public async ValueTask<bool> DeleteAsync(string name, CancellationToken ct)
    {
        await _commits.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (!_positions.TryRemove(name, out _))
            {
                return false;
            }

            _storage.Delete(CursorFile.FileName(name));
            _storage.SyncDirectory();
            return true;
        }
        finally
        {
            _commits.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _commits.Dispose();

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Cursor '{Cursor}' was committed at LSN {Committed}, beyond the recovered end of the log (LSN {LastLsn}); it is lowered to that LSN, so the records that get the lost LSNs next are processed.")]
    private static partial void LogCursorLowered(ILogger logger, string cursor, long committed, long lastLsn);
}
