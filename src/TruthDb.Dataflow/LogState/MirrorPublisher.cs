using Microsoft.Extensions.Logging;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.LogState;

/// <summary>
/// Publishes the writer's watermarks into the shared mirror (<see cref="WatermarkMirror"/>) for
/// readers in other processes, and keeps the mirror from ever failing the log: when the mirror
/// cannot be created the log opens without one, and the first failed update stops all further ones.
/// Each case is logged once (events 16 and 17). The mirror is a convenience for readers, not part of
/// what an append promises, so appends and their acknowledgements never depend on it.
/// </summary>
/// <remarks>
/// Whatever the mirror throws (an IO error; and anything unforeseen, such as a C library without
/// statx) is caught: the mirror never faults the log. Written publishes come from the writer thread,
/// durable ones from whichever thread synced (one at a time); they store different words, and a store
/// racing a <see cref="Stop"/> on the other thread fails on the closed handle and is caught like any
/// other failure. Dispose after both are done.
/// </remarks>
internal sealed partial class MirrorPublisher : IDisposable
{
    private readonly ILogger _logger;
    private readonly string _directory;
    private ISharedFile? _mirror;

    private MirrorPublisher(ISharedFile mirror, string directory, ILogger logger)
    {
        _mirror = mirror;
        _directory = directory;
        _logger = logger;
    }

    /// <summary>
    /// Creates the mirror of the log <paramref name="logId"/> at <paramref name="lastLsn"/>; null when
    /// the storage has none, or when creating it failed (logged as event 16).
    /// </summary>
    public static MirrorPublisher? Create(IWalStorage storage, LogId logId, long lastLsn, ILogger logger)
    {
        try
        {
            // Written = durable = the recovered last LSN, which recovery has synced; open flag 1; no hole.
            var contents = WatermarkMirror.Create(logId, lastLsn, lastLsn);
            return storage.CreateSharedFile(WatermarkMirror.FileName, contents) is { } mirror ? new MirrorPublisher(mirror, storage.DirectoryPath, logger) : null;
        }
        catch (Exception ex)
        {
            LogUnavailable(logger, ex, WatermarkMirror.FileName, storage.DirectoryPath);
            return null;
        }
    }

    /// <summary>Mirrors the written watermark, or stops mirroring if that fails.</summary>
    public void Written(long lsn)
    {
        if (_mirror is { } mirror)
        {
            try
            {
                mirror.Store(WatermarkMirror.WrittenOffset, lsn);
            }
            catch (Exception ex)
            {
                Stop(ex, "written", lsn);
            }
        }
    }

    /// <summary>Mirrors the durable watermark, or stops mirroring if that fails.</summary>
    public void Durable(long lsn)
    {
        if (_mirror is { } mirror)
        {
            try
            {
                // Once per durable publish: a mirror shrunk, deleted or replaced under the writer stops
                // being updated (readers of a replaced one must not be fed through a stale handle).
                mirror.CheckIntact();
                mirror.Store(WatermarkMirror.DurableOffset, lsn);
            }
            catch (Exception ex)
            {
                Stop(ex, "durable", lsn);
            }
        }
    }

    /// <summary>Marks the log closed in the mirror (if it is still updated) and closes it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _mirror, null) is not { } mirror)
        {
            return;
        }

        try
        {
            mirror.CheckIntact();
            mirror.Store(WatermarkMirror.OpenOffset, 0);
        }
        catch (Exception ex)
        {
            LogStopped(_logger, ex, WatermarkMirror.FileName, _directory, "closed flag", 0);
        }
        finally
        {
            mirror.Dispose();
        }
    }

    private void Stop(Exception error, string what, long lsn)
    {
        if (Interlocked.Exchange(ref _mirror, null) is { } mirror)
        {
            mirror.Dispose();
            LogStopped(_logger, error, WatermarkMirror.FileName, _directory, what + " LSN", lsn);
        }
    }

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "Could not create the watermark mirror '{File}' of the log in '{Directory}'; the log is open without it. Appends are not affected; readers in other processes do not get this writer's watermarks from it.")]
    private static partial void LogUnavailable(ILogger logger, Exception error, string file, string directory);

    [LoggerMessage(EventId = 17, Level = LogLevel.Warning, Message = "Stopped updating the watermark mirror '{File}' of the log in '{Directory}': storing the {What} {Lsn} failed. Appends are not affected; readers in other processes see no newer watermarks in it until the log is opened again.")]
    private static partial void LogStopped(ILogger logger, Exception error, string file, string directory, string what, long lsn);
}
