using System.Globalization;
using System.Text;

namespace TruthDb.Dataflow.Repair;

/// <summary>
/// The intent of a repair, written (atomically) before it changes anything, and kept afterwards as its
/// record: plain text, one <c>key=value</c> per line, so an operator can read it. From it alone a repair
/// cut short by a crash is completed (<see cref="LogRepair"/>).
/// </summary>
internal static class RepairRecord
{
    private const string FirstLine = "truthdb repair record v1";

    /// <summary>The text of <paramref name="plan"/>'s record.</summary>
    public static byte[] Encode(RepairPlan plan, long cutEnd)
    {
        var text = new StringBuilder();
        text.Append(FirstLine).Append('\n');
        Add(text, "number", plan.Number);
        Add(text, "segment", plan.Segment);
        Add(text, "offset", plan.Offset);
        Add(text, "cut-end", cutEnd);
        Add(text, "kept-last-lsn", plan.KeptLastLsn);
        Add(text, "last-removed-lsn", plan.LastRemovedLsn);
        Add(text, "removed-segments", string.Join(',', plan.RemovedSegments));
        Add(text, "quarantine", string.Join(',', plan.QuarantineFiles));
        Add(text, "quarantine-bytes", plan.QuarantineBytes);
        Add(text, "damage", plan.Damage.ReplaceLineEndings(" "));
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Reads a record; null when it is not one (damaged or foreign).</summary>
    public static (RepairPlan Plan, long CutEnd)? TryDecode(string directory, byte[] bytes)
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

        var plan = new RepairPlan(directory)
        {
            IsNeeded = true,
            IsInterrupted = true,
            Number = (int)number,
            Segment = segment,
            Offset = offset,
            KeptLastLsn = kept,
            LastRemovedLsn = lastRemoved,
            RemovedSegments = Split(removed),
            QuarantineFiles = Split(quarantine),
            QuarantineBytes = quarantineBytes,
            Damage = values.GetValueOrDefault("damage", string.Empty),
        };
        return (plan, cutEnd);
    }

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries);

    private static bool TryLong(Dictionary<string, string> values, string key, out long value)
    {
        value = 0;
        return values.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    private static void Add(StringBuilder text, string key, string value) => text.Append(key).Append('=').Append(value).Append('\n');

    private static void Add(StringBuilder text, string key, long value) => Add(text, key, value.ToString(CultureInfo.InvariantCulture));
}
