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
        Volatile.Write(ref _segments, segments[keepFrom..]);
        for (var i = 0; i < keepFrom; i++)
        {
            _catalog.Retire(segments[i]);
        }

        _storage.SyncDirectory();
        LogRetained(_logger, _storage.DirectoryPath, keepFrom, segments[keepFrom].FirstLsn);
        return keepFrom;
    }

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "Retention dropped {Segments} segment(s) of the log in '{Directory}'; it now starts at LSN {FirstLsn}.")]
    private static partial void LogRetained(ILogger logger, string directory, int segments, long firstLsn);
}
