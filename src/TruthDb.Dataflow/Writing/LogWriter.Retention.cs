using System.Diagnostics;
using Microsoft.Extensions.Logging;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Writing;

/// <summary>Retention: dropping whole sealed segments from the front of the log.</summary>
internal sealed partial class LogWriter
{
    /// <summary>
    /// Drops every sealed segment whose records are all below <paramref name="lsn"/>; the active
    /// segment always stays. Order, for crash safety: persist the new first retained LSN
    /// (<see cref="RetentionPoint"/>), publish the shorter segment list (new readers no longer see the
    /// dropped segments), then retire them oldest first (files are deleted once no reader holds them).
    /// Returns how many segments were dropped. Runs on the writer thread.
    /// </summary>
    public int TruncateBefore(long lsn)
    {
        Debug.Assert(_writerThread.IsCurrentThread, "the segment list belongs to the writer thread");
        var segments = Segments;
        var keepFrom = 0;
        while (keepFrom < segments.Length - 1 && segments[keepFrom + 1].FirstLsn <= lsn)
        {
            keepFrom++;
        }

        if (keepFrom == 0)
        {
            return 0;
        }

        AtomicFile.Write(_storage, RetentionPoint.FileName, RetentionPoint.Encode(segments[keepFrom].FirstLsn));
        _view.Publish(segments[keepFrom..]);
        for (var i = 0; i < keepFrom; i++)
        {
            _catalog.Retire(segments[i]);
        }

        _storage.SyncDirectory();
        LogRetained(_logger, _storage.DirectoryPath, keepFrom, segments[keepFrom].FirstLsn);
        return keepFrom;
    }

    /// <summary>
    /// The size and age policies (<see cref="WalOptions.RetentionMaxBytes"/>, <see cref="WalOptions.RetentionMaxAge"/>),
    /// applied each time a segment is sealed: drops the oldest sealed segments while the log is bigger
    /// than allowed, and those whose newest record is older than allowed (a segment's records are all
    /// older than the creation of the segment after it). Never past the slowest cursor unless
    /// <see cref="WalOptions.RetentionIgnoresCursors"/>.
    /// </summary>
    private void ApplyRetentionPolicy()
    {
        if (_options.RetentionMaxBytes == 0 && _options.RetentionMaxAge == TimeSpan.Zero)
        {
            return;
        }

        var segments = Segments;
        var keepFrom = 0;
        long total = 0;
        foreach (var segment in segments)
        {
            total += segment.Size;
        }

        var oldestAllowed = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds() - (long)_options.RetentionMaxAge.TotalMilliseconds;
        while (keepFrom < segments.Length - 1
            && ((_options.RetentionMaxBytes > 0 && total > _options.RetentionMaxBytes)
                || (_options.RetentionMaxAge > TimeSpan.Zero && segments[keepFrom + 1].CreatedUnixMs < oldestAllowed)))
        {
            total -= segments[keepFrom].Size;
            keepFrom++;
        }

        if (keepFrom == 0)
        {
            return;
        }

        var lsn = segments[keepFrom].FirstLsn;
        if (!_options.RetentionIgnoresCursors && _slowestCursor() is { } slowest)
        {
            lsn = Math.Min(lsn, slowest + 1);
        }

        try
        {
            TruncateBefore(lsn);
        }
        catch (IOException ex)
        {
            // Retention is housekeeping: failing it (say, a full disk while writing the retention
            // point) must not fault the log. Nothing was deleted before the point was persisted.
            LogRetentionFailed(_logger, ex, _storage.DirectoryPath);
        }
    }

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "Retention of the log in '{Directory}' failed; it is tried again when the next segment is sealed.")]
    private static partial void LogRetentionFailed(ILogger logger, Exception error, string directory);

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "Retention dropped {Segments} segment(s) of the log in '{Directory}'; it now starts at LSN {FirstLsn}.")]
    private static partial void LogRetained(ILogger logger, string directory, int segments, long firstLsn);
}
