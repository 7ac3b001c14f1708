using System.Globalization;
using System.Text;

namespace TruthDb.Dataflow.Format;

/// <summary>What a repair does: cut one segment at an offset and move what follows into quarantine.</summary>
/// <param name="Number">The repair's number in the directory (1 for the first): it names its files.</param>
/// <param name="Segment">The segment the log is cut in.</param>
/// <param name="Offset">Where <paramref name="Segment"/> is cut; 0 when the whole segment is removed.</param>
/// <param name="CutEnd">The end of the last non-zero byte of <paramref name="Segment"/> after the cut (what is quarantined and zeroed).</param>
/// <param name="KeptLastLsn">The last LSN the log keeps (0 when it keeps none).</param>
/// <param name="LastRemovedLsn">The highest LSN known in what is removed.</param>
/// <param name="RemovedSegments">Whole segment files moved into quarantine, oldest first.</param>
/// <param name="QuarantineFiles">The quarantine files that keep every removed byte.</param>
/// <param name="QuarantineBytes">The number of bytes moved into quarantine.</param>
/// <param name="Damage">The first damage found, in words.</param>
internal sealed record RepairIntent(
    int Number,
    string Segment,
    long Offset,
    long CutEnd,
    long KeptLastLsn,
    long LastRemovedLsn,
    IReadOnlyList<string> RemovedSegments,
    IReadOnlyList<string> QuarantineFiles,
    long QuarantineBytes,
    string Damage);

/// <summary>
/// The intent of a repair, written (atomically) before it changes anything, and kept afterwards as its
/// record: plain text, one <c>key=value</c> per line, so an operator can read it. From it alone a repair
/// cut short by a crash is completed. Also the names of a repair's files:
/// <c>repair-NNNN.intent</c> (until it is complete), <c>repair-NNNN.done</c> (after),
/// <c>repair-NNNN.SEGMENT.quarantine</c> and <c>repair-NNNN.SEGMENT.from-OFFSET.quarantine</c>.
/// </summary>
internal static class RepairRecord
{
    private const string FirstLine = "truthdb repair record v1";
    private const string RecordPrefix = "repair-";
    private const string IntentExtension = ".intent";
    private const string DoneExtension = ".done";
    private const string QuarantineExtension = ".quarantine";

    /// <summary>The name of the intent of repair <paramref name="number"/> (until it is complete).</summary>
    public static string IntentName(int number) => Prefix(number) + IntentExtension;

    /// <summary>The name of the record of repair <paramref name="number"/> once it is complete.</summary>
    public static string RecordName(int number) => Prefix(number) + DoneExtension;

    /// <summary>The quarantine file of <paramref name="segment"/> from <paramref name="offset"/> (0: the whole segment).</summary>
    public static string QuarantineName(int number, string segment, long offset) =>
        offset == 0
            ? $"{Prefix(number)}.{segment}{QuarantineExtension}"
            : string.Create(CultureInfo.InvariantCulture, $"{Prefix(number)}.{segment}.from-{offset}{QuarantineExtension}");

    /// <summary>True for the intent of a repair that is not complete yet.</summary>
    public static bool IsIntent(string name) =>
        name.StartsWith(RecordPrefix, StringComparison.Ordinal) && name.EndsWith(IntentExtension, StringComparison.Ordinal);

    /// <summary>The repair number a file of a repair carries; false for other files.</summary>
    public static bool TryParseNumber(string name, out int number)
    {
        number = 0;
        return name.StartsWith(RecordPrefix, StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(RecordPrefix.Length, Math.Min(4, name.Length - RecordPrefix.Length)), NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }

    /// <summary>The text of <paramref name="intent"/>'s record.</summary>
    public static byte[] Encode(RepairIntent intent)
    {
        var text = new StringBuilder();
        text.Append(FirstLine).Append('\n');
        Add(text, "number", intent.Number);
        Add(text, "segment", intent.Segment);
        Add(text, "offset", intent.Offset);
        Add(text, "cut-end", intent.CutEnd);
        Add(text, "kept-last-lsn", intent.KeptLastLsn);
        Add(text, "last-removed-lsn", intent.LastRemovedLsn);
        Add(text, "removed-segments", string.Join(',', intent.RemovedSegments));
        Add(text, "quarantine", string.Join(',', intent.QuarantineFiles));
        Add(text, "quarantine-bytes", intent.QuarantineBytes);
        Add(text, "damage", intent.Damage.ReplaceLineEndings(" "));
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Reads a record; null when it is not one (damaged or foreign).</summary>
    public static RepairIntent? TryDecode(byte[] bytes)
    {
        var lines = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || lines[0] != FirstLine)
        {
            return null;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.AsSpan(1))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                values[line[..equals]] = line[(equals + 1)..];
            }
        }

        if (!TryLong(values, "number", out var number) || !values.TryGetValue("segment", out var segment) || !TryLong(values, "offset", out var offset)
            || !TryLong(values, "cut-end", out var cutEnd) || !TryLong(values, "kept-last-lsn", out var kept) || !TryLong(values, "last-removed-lsn", out var lastRemoved)
            || !values.TryGetValue("removed-segments", out var removed) || !values.TryGetValue("quarantine", out var quarantine)
            || !TryLong(values, "quarantine-bytes", out var quarantineBytes) || number is < 1 or > int.MaxValue)
        {
            return null;
        }

        return new RepairIntent((int)number, segment, offset, cutEnd, kept, lastRemoved, Split(removed), Split(quarantine), quarantineBytes,
            values.GetValueOrDefault("damage", string.Empty));
    }

    private static string Prefix(int number) => RecordPrefix + number.ToString("D4", CultureInfo.InvariantCulture);

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries);

    private static bool TryLong(Dictionary<string, string> values, string key, out long value)
    {
        value = 0;
        return values.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    private static void Add(StringBuilder text, string key, string value) => text.Append(key).Append('=').Append(value).Append('\n');

    private static void Add(StringBuilder text, string key, long value) => Add(text, key, value.ToString(CultureInfo.InvariantCulture));
}
