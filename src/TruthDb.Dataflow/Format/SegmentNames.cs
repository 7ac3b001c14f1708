using System.Globalization;

namespace TruthDb.Dataflow.Format;

/// <summary>
/// File names in a log directory: segments are named by their first LSN as 20 zero-padded
/// decimal digits plus <c>.wal</c>; segments being prepared ahead are <c>prepare-N.tmp</c>.
/// </summary>
internal static class SegmentNames
{
    /// <summary>Extension of segment files.</summary>
    public const string SegmentExtension = ".wal";

    /// <summary>Extension of files being prepared (never part of the log; deleted at open).</summary>
    public const string TemporaryExtension = ".tmp";

    private const int Digits = 20;

    /// <summary>The segment file name for a segment whose first record is <paramref name="firstLsn"/>.</summary>
    public static string ForSegment(long firstLsn) =>
        firstLsn.ToString("D20", CultureInfo.InvariantCulture) + SegmentExtension;

    /// <summary>Parses a segment file name; false for any other file.</summary>
    public static bool TryParseSegment(string name, out long firstLsn)
    {
        firstLsn = 0;
        if (name.Length != Digits + SegmentExtension.Length || !name.EndsWith(SegmentExtension, StringComparison.Ordinal))
        {
            return false;
        }

        var digits = name.AsSpan(0, Digits);
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out firstLsn) && firstLsn > 0;
    }

    /// <summary>Prefix of the files segments are prepared in.</summary>
    public const string PreparedPrefix = "prepare-";

    /// <summary>The name of the <paramref name="id"/>-th file a segment is prepared in.</summary>
    public static string ForPrepared(int id) => PreparedPrefix + id.ToString(CultureInfo.InvariantCulture) + TemporaryExtension;

    /// <summary>True for a file a segment was being prepared in (never part of the log; other files are left alone).</summary>
    public static bool IsPrepared(string name) =>
        name.StartsWith(PreparedPrefix, StringComparison.Ordinal) && name.EndsWith(TemporaryExtension, StringComparison.Ordinal);
}
