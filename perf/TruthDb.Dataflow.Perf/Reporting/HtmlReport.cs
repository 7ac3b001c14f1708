using System.Globalization;
using System.Net;
using System.Text;

namespace TruthDb.Dataflow.Perf.Reporting;

/// <summary>
/// A self-contained HTML page (inline SVG, no scripts, no external files): for every durability and
/// record size run at more than one producer count, records/s against producers (log scale) with
/// one line per engine; then every median row with its latency percentiles.
/// </summary>
internal static class HtmlReport
{
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

    public static void Write(string path, IReadOnlyList<Summary> summaries, MachineInfo machine, string session)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>TruthDb.Dataflow perf ")
            .Append(WebUtility.HtmlEncode(session))
            .Append("</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,td:nth-child(2){text-align:left}</style></head><body>")
            .Append("<h1>TruthDb.Dataflow.Perf</h1><p>")
            .Append(WebUtility.HtmlEncode($"session {session}; {machine}"))
            .Append("</p>");

        var engines = new List<string>();
        var groups = new List<(Durability Durability, int Size, int Batch)>();
        foreach (var s in summaries)
        {
            if (!engines.Contains(s.Spec.Engine))
            {
                engines.Add(s.Spec.Engine);
            }

            if (!groups.Contains((s.Spec.Durability, s.Spec.RecordSize, s.Spec.Batch)))
            {
                groups.Add((s.Spec.Durability, s.Spec.RecordSize, s.Spec.Batch));
            }
        }

        foreach (var (durability, size, batch) in groups)
        {
            var rows = summaries.Where(s => s.Runs > 0 && s.Spec.Durability == durability && s.Spec.RecordSize == size && s.Spec.Batch == batch).ToList();
            var producers = rows.Select(s => s.Spec.Producers).Distinct().Order().ToList();
            if (producers.Count < 2)
            {
                continue;
            }

            var calls = batch == 1 ? string.Empty : Invariant($", {batch} records per call");
            html.Append(Invariant($"<h2>{ConsoleTable.Name(durability)}, {size} B{calls}: records/s vs producers</h2>"));
            AppendChart(html, rows, producers, engines);
        }

        html.Append("<h2>Medians</h2><table><tr><th>engine</th><th>durability</th><th>size B</th><th>producers</th><th>per call</th><th>records/s</th><th>x truthdb</th><th>p50 µs</th><th>p99 µs</th><th>p99.9 µs</th><th>note</th></tr>");
        foreach (var s in summaries)
        {
            html.Append(Invariant($"<tr><td>{s.Spec.Engine}</td><td>{ConsoleTable.Name(s.Spec.Durability)}</td><td>{s.Spec.RecordSize}</td><td>{s.Spec.Producers}</td><td>{s.Spec.Batch}</td><td>{s.RecordsPerSecond:N0}</td><td>{(s.RatioToTruthDb is { } r ? r.ToString("N2", CultureInfo.InvariantCulture) : "-")}</td><td>{s.P50Micros:N0}</td><td>{s.P99Micros:N0}</td><td>{s.P999Micros:N0}</td><td>{WebUtility.HtmlEncode(s.Note ?? string.Empty)}</td></tr>"));
        }

        html.Append("</table></body></html>");
        File.WriteAllText(path, html.ToString());
    }

    private static void AppendChart(StringBuilder html, List<Summary> rows, List<int> producers, List<string> engines)
    {
        const double Width = 640, Height = 320, Left = 80, Right = 150, Top = 10, Bottom = 40;
        var max = rows.Max(s => s.RecordsPerSecond) * 1.1;
        var logMin = Math.Log(producers[0]);
        var logSpan = Math.Max(1e-9, Math.Log(producers[^1]) - logMin);
        double X(int p) => Left + ((Math.Log(p) - logMin) / logSpan * (Width - Left - Right));
        double Y(double v) => Top + ((1 - (v / max)) * (Height - Top - Bottom));

        html.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-size=\"12\">"));
        html.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Y(0):F1}\" x2=\"{Width - Right}\" y2=\"{Y(0):F1}\" stroke=\"black\"/><line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Y(0):F1}\" stroke=\"black\"/>"));
        foreach (var p in producers)
        {
            html.Append(Invariant($"<text x=\"{X(p):F1}\" y=\"{Height - 20}\" text-anchor=\"middle\">{p}</text>"));
        }

        html.Append(Invariant($"<text x=\"{(Left + Width - Right) / 2:F1}\" y=\"{Height - 4}\" text-anchor=\"middle\">producers</text>"));
        for (var i = 0; i <= 4; i++)
        {
            var v = max * i / 4;
            html.Append(Invariant($"<text x=\"{Left - 6}\" y=\"{Y(v) + 4:F1}\" text-anchor=\"end\">{v:N0}</text>"));
        }

        for (var e = 0; e < engines.Count; e++)
        {
            var points = rows.Where(s => s.Spec.Engine == engines[e]).OrderBy(s => s.Spec.Producers).ToList();
            if (points.Count == 0)
            {
                continue;
            }

            var color = Colors[e % Colors.Length];
            html.Append(Invariant($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\""));
            foreach (var s in points)
            {
                html.Append(Invariant($"{X(s.Spec.Producers):F1},{Y(s.RecordsPerSecond):F1} "));
            }

            html.Append("\"/>");
            html.Append(Invariant($"<text x=\"{Width - Right + 8}\" y=\"{Top + 14 + (e * 16)}\" fill=\"{color}\">{WebUtility.HtmlEncode(engines[e])}</text>"));
        }

        html.Append("</svg>");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
