using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.LogState;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Writing;

/// <summary>Sealing the full segment and activating the next one.</summary>
internal sealed partial class LogWriter
{
    /// <summary>
    /// Moves writing to a new segment: takes the prepared one (or reports the log full, changing
    /// nothing), seals the current one, activates the new one, and starts preparing the one after.
    /// </summary>
    private WalFullException? Roll()
    {
        IStorageFile next;
        try
        {
            next = _preparer.Take();
        }
        catch (IOException ex) when (StorageErrors.IsDiskFull(ex))
        {
            LogFull(_logger, ex, _storage.DirectoryPath);
            return new WalFullException(
                $"The write-ahead log in '{_storage.DirectoryPath}' is full: there is no space for the next segment ({_options.SegmentSize} bytes). The append was not written; records up to LSN {_writtenLsn} are safe and readable, and appends succeed again once space is freed.",
                ex);
        }

        // The lock keeps a background sync (Flush) off the segment while it is sealed and replaced.
        _syncLock.Enter();
        try
        {
            var sealedName = Segments[^1].Name;
            if (!_activeSealed)
            {
                Seal();
                _catalog.PersistIndex(Segments[^1], _activeIndex);
            }

            _active!.Dispose();
            _active = null;
            var header = new SegmentHeader(_view.LogId, _nextLsn, _options.SegmentSize, _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            SegmentFiles.Activate(_storage, next, header);
            _active = next;
            _writeOffset = SegmentLayout.RecordsStart;
            _activeSealed = false;
            _activeIndex = SparseIndex.Empty(_nextLsn);
            _view.Publish(_activeIndex);
            var segments = Segments;
            var added = new SegmentInfo[segments.Length + 1];
            segments.CopyTo(added, 0);
            added[^1] = new SegmentInfo(_nextLsn, _options.SegmentSize, header.CreatedUnixMs);
            _view.Publish(added);
            _events.Rolled();
            LogRolled(_logger, sealedName, _nextLsn - 1, added[^1].Name);
        }
        catch
        {
            if (!ReferenceEquals(next, _active))
            {
                next.Dispose();
            }

            throw;
        }
        finally
        {
            _syncLock.Exit();
        }

        _preparer.StartNext();
        ApplyRetentionPolicy();
        return null;
    }

    /// <summary>
    /// Makes every record of the active segment durable, then writes the seal trailer and syncs again.
    /// The first sync matters: unsynced writes may persist in any order, and a trailer that reached the
    /// disk ahead of the frames it vouches for would turn a torn tail into apparent corruption. So a
    /// valid trailer always means every frame before it is durable.
    /// </summary>
    private void Seal()
    {
        if (_writtenLsn > _watermarks.Durable)
        {
            SyncActive(_writtenLsn);
        }

        Span<byte> trailer = stackalloc byte[FrameCodec.TrailerLength];
        FrameCodec.EncodeTrailer(trailer, _seed, _nextLsn - 1, _writeOffset);
        _active!.Write(SegmentLayout.RecordsEnd(Segments[^1].Size), trailer);
        SyncActive(_writtenLsn);
        _activeSealed = true;
        _view.PublishSealed(Segments[^1]);
    }
}
