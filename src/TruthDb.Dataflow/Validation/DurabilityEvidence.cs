using System.Buffers.Binary;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Validation;

/// <summary>
/// The persisted evidence, outside the segments, of how far a log was durable: the clean-close note
/// (<see cref="CleanClose"/>) and the durable LSN of the watermark mirror (<see cref="WatermarkMirror"/>).
/// Recovery and inspection (<c>truthdb verify</c>, <c>stats</c>) both read it through here, before they read a
/// segment (so that, on a log a writer is appending to, it never vouches for more than the segments
/// read afterwards can hold).
/// </summary>
/// <remarks>
/// Why each is a lower bound of what was durable:
/// <list type="bullet">
/// <item>The note is written (and synced) by a clean close after its final fdatasync: its last LSN was
/// durable.</item>
/// <item>The writer stores the mirror's durable LSN only after the fdatasync covering it returned
/// (<c>LogWriter.SyncActive</c>, then <c>Watermarks.PublishDurable</c>), and at open the recovered last
/// LSN, after recovery synced it. The mirror itself is never synced, so after a crash its page on disk
/// may hold any value it held before: each was durable when stored. Only a mirror carrying the log's id
/// counts.</item>
/// </list>
/// Seal trailers and the synced-LSN fields of frames are evidence too; they are read with the segments.
/// </remarks>
internal readonly record struct DurabilityEvidence(CleanClose.Note? Note, bool NotePresent, LogId? MirrorLogId, long MirrorDurableLsn)
{
    /// <summary>How often the mirror is read while it changes (a live writer) before it is left out.</summary>
    private const int MirrorReads = 4;

    /// <summary>Reads the note and the mirror; changes nothing.</summary>
    public static DurabilityEvidence Read(IWalStorage storage)
    {
        var noteBytes = AtomicFile.Read(storage, CleanClose.FileName);
        var (mirrorId, mirrorDurable) = ReadMirror(storage);
        return new DurabilityEvidence(noteBytes is null ? null : CleanClose.TryDecode(noteBytes), noteBytes is not null, mirrorId, mirrorDurable);
    }

    /// <summary>The LSN the clean-close note proves durable for <paramref name="logId"/>, or 0.</summary>
    public long NoteLsn(LogId logId) => Note is { } note && note.LogId.Equals(logId) ? note.LastLsn : 0;

    /// <summary>The LSN the watermark mirror proves durable for <paramref name="logId"/>, or 0.</summary>
    public long MirrorLsn(LogId logId) => MirrorLogId is { } id && id.Equals(logId) ? MirrorDurableLsn : 0;

    /// <summary>The highest LSN this evidence proves durable for <paramref name="logId"/> (0 when none), and which evidence says so.</summary>
    public (long Lsn, string Source) Bound(LogId logId)
    {
        var note = NoteLsn(logId);
        var mirror = MirrorLsn(logId);
        return note >= mirror
            ? (note, note > 0 ? $"the clean-close note ({CleanClose.FileName})" : string.Empty)
            : (mirror, $"the watermark mirror's durable LSN ({WatermarkMirror.FileName})");
    }

    // A writer in another process may be storing into the mirror while it is read: the 8-byte word
    // could come out torn by a plain read. Two reads in a row that agree are taken; a mirror that keeps
    // changing is left out (weaker evidence, never a false one).
    private static (LogId? Id, long Durable) ReadMirror(IWalStorage storage)
    {
        var previous = ReadMirrorOnce(storage);
        for (var i = 1; i < MirrorReads; i++)
        {
            var current = ReadMirrorOnce(storage);
            if (current.Equals(previous))
            {
                return current;
            }

            previous = current;
        }

        return (null, 0);
    }

    private static (LogId? Id, long Durable) ReadMirrorOnce(IWalStorage storage)
    {
        IStorageFile file;
        try
        {
            file = storage.Open(WatermarkMirror.FileName, writable: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Missing, or something else in its place (a directory, a file we may not read): no
            // evidence from it (weaker, never false); the writer replaces it or opens without it.
            return (null, 0);
        }

        using (file)
        {
            var bytes = new byte[WatermarkMirror.Size];
            if (file.ReadFully(0, bytes) != bytes.Length)
            {
                return (null, 0);
            }

            var logId = LogId.Read(bytes.AsSpan(8));
            if (!WatermarkMirror.Matches(bytes, logId))
            {
                return (null, 0);
            }

            var durable = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(WatermarkMirror.DurableOffset));
            return durable > 0 ? (logId, durable) : (null, 0);
        }
    }
}
