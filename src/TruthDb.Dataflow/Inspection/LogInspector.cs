using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Inspection;

/// <summary>
/// Read-only inspection of a log directory, for tools (<c>truthdb dump</c>, <c>verify</c>, <c>stats</c>):
/// it reads segment files directly, never takes the writer lock and never writes, so it works on a
/// log that a writer has open (it then sees the files as of the moment each is read) and on a
/// damaged log that <see cref="Wal.OpenAsync"/> refuses. It applies the validation rules of
/// docs/format.md and classifies what it finds the way recovery would (<see cref="LogCondition"/>).
/// </summary>
public static partial class LogInspector
{
    /// <summary>
    /// Checks every segment header, seal trailer and frame of the log in <paramref name="directory"/> and
    /// classifies every problem, with its segment, offset and LSN.
    /// </summary>
    /// <param name="directory">The log directory.</param>
    /// <returns>The segments and findings; <see cref="VerifyReport.IsClean"/> when nothing is wrong.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    public static VerifyReport Verify(string directory)
    {
        return VerifyStorage(OpenStorage(directory));
    }

    /// <summary>Verifies the log in <paramref name="storage"/> (read-only).</summary>
    internal static VerifyReport VerifyStorage(IWalStorage storage)
    {
        var findings = new List<LogFinding>();
        var segments = Scan(storage, readSealedFrames: true, findings, out var context);
        var (proven, provenBy) = ProvenDurable(segments, context);
        foreach (var name in ReadCursors(storage).Damaged)
        {
            findings.Add(new LogFinding(
                LogCondition.DamagedCursor,
                CursorFile.FileName(name),
                0,
                0,
                recoverable: false,
                $"the file of cursor '{name}' is damaged (its committed LSN is unknown); opening the log refuses, and truthdb repair commits the cursor again at LSN 0, keeping the file's bytes in quarantine"));
        }

        return new VerifyReport(storage.DirectoryPath, segments, findings)
        {
            ProvenDurableLsn = proven,
            ProvenDurableBy = provenBy,
            PendingRepair = PendingRepairIntent(storage),
        };
    }

    /// <summary>
    /// Segments, sizes, first and last LSN of the log in <paramref name="directory"/>. Sealed segments are
    /// described by their trailers (their frames are not read); the last segment is read frame by frame.
    /// </summary>
    /// <param name="directory">The log directory.</param>
    /// <returns>What the files hold now.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    public static LogStats GetStats(string directory)
    {
        var storage = OpenStorage(directory);
        var segments = Scan(storage, readSealedFrames: false, findings: null, out var context);
        var (proven, provenBy) = ProvenDurable(segments, context);
        var (cursors, damaged) = ReadCursors(storage);
        return new LogStats(storage.DirectoryPath, segments, cursors)
        {
            ProvenDurableLsn = proven,
            ProvenDurableBy = provenBy,
            DamagedCursors = damaged,
        };
    }

    /// <summary>
    /// Every frame of one segment, or of every segment in order: the valid frames, then (after damage)
    /// the bad frame where reading stops and any frames of the log that still validate after it.
    /// </summary>
    /// <param name="directory">The log directory.</param>
    /// <param name="segment">A segment file name (<c>00000000000000000001.wal</c>), or null for all segments.</param>
    /// <returns>The frames, lazily, in file order.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException"><paramref name="segment"/> is not a segment of the directory.</exception>
    public static IEnumerable<FrameInfo> Dump(string directory, string? segment = null) => DumpStorage(OpenStorage(directory), segment);

    /// <summary>The frames of the log in <paramref name="storage"/> (see <see cref="Dump"/>).</summary>
    internal static IEnumerable<FrameInfo> DumpStorage(IWalStorage storage, string? segment)
    {
        var names = ListSegments(storage);
        if (segment is not null)
        {
            var name = Path.GetFileName(segment);
            if (!SegmentNames.TryParseSegment(name, out _) || !names.Contains(name))
            {
                throw new FileNotFoundException(
                    $"'{segment}' is not a segment of the log in '{storage.DirectoryPath}' (segments are named by their first LSN as 20 digits plus .wal).",
                    segment);
            }

            names = [name];
        }

        return DumpSegments(storage, names);
    }

    // The highest LSN any persisted evidence proves durable, and which: the clean-close note or the
    // watermark mirror (of this log), a seal trailer, or a frame's synced-LSN field.
    private static (long Lsn, string Source) ProvenDurable(List<SegmentSummary> segments, ScanContext context)
    {
        var best = context.LogId is { } logId ? context.Evidence.Bound(logId) : (0, string.Empty);
        foreach (var segment in segments)
        {
            if (segment.KnownDurableLsn > best.Lsn)
            {
                best = (segment.KnownDurableLsn, segment.IsSealed
                    ? $"the seal trailer of segment {segment.Name}"
                    : $"the synced-LSN field of a frame in segment {segment.Name}");
            }
        }

        return best;
    }

    // Every cursor file: the intact ones with their committed LSNs, and the names of the damaged ones
    // (in name order). A file deleted between the listing and its read is left out: it is no cursor now.
    private static (SortedDictionary<string, long> Intact, List<string> Damaged) ReadCursors(IWalStorage storage)
    {
        var intact = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var damaged = new List<string>();
        foreach (var fileName in storage.ListFiles())
        {
            if (!CursorFile.TryParseFileName(fileName, out var name) || AtomicFile.Read(storage, fileName) is not { } bytes)
            {
                continue;
            }

            if (CursorFile.TryDecode(bytes, out var lsn))
            {
                intact[name] = lsn;
            }
            else
            {
                damaged.Add(name);
            }
        }

        damaged.Sort(StringComparer.Ordinal);
        return (intact, damaged);
    }

    // The intent of a repair that a crash cut short (the next open or truthdb repair completes it), or null.
    private static string? PendingRepairIntent(IWalStorage storage)
    {
        foreach (var name in storage.ListFiles())
        {
            if (RepairRecord.IsIntent(name))
            {
                return name;
            }
        }

        return null;
    }

    private static FileSystemStorage OpenStorage(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"The log directory '{Path.GetFullPath(directory)}' does not exist.");
        }

        return new FileSystemStorage(directory);
    }

    private static List<string> ListSegments(IWalStorage storage)
    {
        var names = new List<string>();
        foreach (var name in storage.ListFiles())
        {
            if (SegmentNames.TryParseSegment(name, out _))
            {
                names.Add(name);
            }
        }

        // Fixed-width names: ordinal order is LSN order.
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    private static FrameCheck ToCheck(FrameStatus status) => status switch
    {
        FrameStatus.Success => FrameCheck.Valid,
        FrameStatus.OutOfSequence => FrameCheck.OutOfSequence,
        FrameStatus.Truncated => FrameCheck.Truncated,
        _ => FrameCheck.ChecksumMismatch,
    };
}
