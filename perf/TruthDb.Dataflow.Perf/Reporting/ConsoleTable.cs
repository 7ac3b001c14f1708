using System.Globalization;
using System.Text;
using TruthDb.Dataflow.Perf.Workload;

namespace TruthDb.Dataflow.Perf.Reporting;

/// <summary>Plain-text tables for the console (and for pasting into docs/performance.md).</summary>
internal static class ConsoleTable
{
    private static readonly string[] Header =
    [
        "engine", "durability", "size B", "producers", "per call", "records/s", "x truthdb", "ceiling", "of ceiling", "p50 us", "p99 us", "p99.9 us",
        "avg batch", "syncs/s", "avg sync us", "alloc B/rec", "cpu us/rec", "note",
    ];

    /// <summary>One progress line for a finished run.</summary>
    public static string RunLine(RunResult r) => string.Create(
        CultureInfo.InvariantCulture,
        $"  {r.Spec.Engine,-14} {Name(r.Spec.Durability),-7} {r.Spec.RecordSize,5} B {r.Spec.Producers,4} producers {r.Spec.Batch,4}/call  run {r.Spec.Repeat}: {r.RecordsPerSecond,12:N0} rec/s  p50 {r.P50Micros,8:N0} us  p99 {r.P99Micros,8:N0} us  batch {Optional(r.AverageBatch, "N1"),7}  syncs/s {Optional(r.SyncsPerSecond, "N0"),7}  cpu {r.CpuMicrosPerRecord,6:N1} us/rec");

    /// <summary>The summary table: medians of the repeats, with the ratio of each engine to truthdb.</summary>
    public static string Render(IReadOnlyList<Summary> summaries)
    {
        var rows = new List<string[]> { Header };
        foreach (var s in summaries)
        {
            var measured = s.Runs > 0;
            rows.Add(
            [
                s.Spec.Engine,
                Name(s.Spec.Durability),
                Number(s.Spec.RecordSize, "N0"),
                Number(s.Spec.Producers, "N0"),
                Number(s.Spec.Batch, "N0"),
                measured ? Number(s.RecordsPerSecond, "N0") : "-",
                Optional(s.RatioToTruthDb, "N2"),
                Optional(s.Ceiling, "N0"),
                Optional(measured ? s.RecordsPerSecond / s.Ceiling : null, "P0"),
                measured ? Number(s.P50Micros, "N0") : "-",
                measured ? Number(s.P99Micros, "N0") : "-",
                measured ? Number(s.P999Micros, "N0") : "-",
                Optional(s.AverageBatch, "N1"),
                Optional(s.SyncsPerSecond, "N0"),
                Optional(s.AverageSyncMicros, "N0"),
                measured ? Number(s.AllocatedBytesPerRecord, "N0") : "-",
                measured ? Number(s.CpuMicrosPerRecord, "N1") : "-",
                s.Note ?? string.Empty,
            ]);
        }

        var widths = new int[Header.Length];
        foreach (var row in rows)
        {
            for (var c = 0; c < row.Length; c++)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
            }
        }

        var text = new StringBuilder();
        for (var r = 0; r < rows.Count; r++)
        {
            text.Append('|');
            for (var c = 0; c < widths.Length; c++)
            {
                var cell = rows[r][c];
                text.Append(' ').Append(Left(c) ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c])).Append(" |");
            }

            text.AppendLine();
            if (r == 0)
            {
                text.Append('|');
                for (var c = 0; c < widths.Length; c++)
                {
                    // Markdown alignment: names left, numbers right.
                    text.Append(' ').Append(new string('-', widths[c] - (Left(c) ? 0 : 1))).Append(Left(c) ? " |" : ": |");
                }

                text.AppendLine();
            }
        }

        return text.ToString();
    }

    /// <summary>The runs that failed or hung, one line each (nothing when every run measured).</summary>
    public static string Failures(IReadOnlyList<Summary> summaries)
    {
        var text = new StringBuilder();
        foreach (var s in summaries)
        {
            foreach (var f in s.Failures)
            {
                text.Append(CultureInfo.InvariantCulture, $"  {f.Spec.Engine} {Name(f.Spec.Durability)} {f.Spec.RecordSize} B, {f.Spec.Producers} producers, {f.Spec.Batch}/call, run {f.Spec.Repeat}: {f.Reason}").AppendLine();
            }
        }

        return text.Length == 0 ? string.Empty : "failed runs:" + Environment.NewLine + text;
    }

    public static string Name(Durability durability) => durability == Durability.Sync ? "sync" : "written";

    // Names and notes are left-aligned, numbers right-aligned.
    private static bool Left(int column) => column < 2 || column == Header.Length - 1;

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Optional(double? value, string format) => value is { } v ? Number(v, format) : "-";
}
