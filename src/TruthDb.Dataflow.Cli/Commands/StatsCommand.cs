using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Inspection;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb stats</c>: segments, sizes, watermarks, first and last LSN, cursors, read-only from the
/// files; or, with <c>--socket</c>, what a <c>truthdb serve</c> reports: its watermarks and counters,
/// and the segments and cursors as its log knows them, printed the same way (<c>StatsCommand.Served.cs</c>).
/// <c>--json</c> prints one JSON object instead (README, "Machine-readable output").
/// </summary>
internal static partial class StatsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object (the shape is in the README) instead of text.",
        };
        var command = new Command("stats", "Show the log's segments, sizes, first and last LSN, watermarks and cursors, read from the files (no writer lock); with --socket, the same as the server's log knows them, and the server's counters (file lengths and bytes used, known only from the files, show as '?').");
        var target = LogTarget.AddTo(command);
        command.Add(json);
        command.SetAction((parse, ct) => Verb.RunAsync(() => target.SocketPath(parse) is { } socket
            ? RunServedAsync(socket, parse.GetValue(target.TokenFile), parse.GetValue(json), ct)
            : Task.FromResult(Run(target.DirectoryPath(parse), parse.GetValue(json)))));
        return command;
    }

    private static int Run(string directory, bool json)
    {
        CommonOptions.RequireExistingLog(directory);
        var stats = LogInspector.GetStats(directory);
        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            JsonOutput.WriteLine(stdout, w => WriteJson(w, stats));
            return ExitCodes.Ok;
        }

        var inv = Show.Invariant;
        Console.WriteLine($"directory:         {stats.Directory}");
        Console.WriteLine($"log id:            {JsonOutput.LogId(stats.LogId) ?? "(unreadable)"}");
        Console.WriteLine(string.Create(inv, $"segments:          {stats.Segments.Count}"));
        Console.WriteLine(string.Create(inv, $"records:           {stats.Records}"));
        Console.WriteLine(string.Create(inv, $"first LSN:         {stats.FirstLsn}"));
        Console.WriteLine(string.Create(inv, $"last LSN:          {stats.LastLsn} (written watermark as on disk)"));
        Console.WriteLine(string.Create(inv, $"durable LSN:       {Durable(stats)}"));
        Console.WriteLine(string.Create(inv, $"bytes on disk:     {stats.TotalBytes} ({Show.Bytes(stats.TotalBytes)})"));
        Console.WriteLine(string.Create(inv, $"bytes in records:  {stats.RecordBytes} ({Show.Bytes(stats.RecordBytes)})"));
        PrintCursorsAndSegments(stats.Cursors, stats.DamagedCursors, SegmentRow.Of(stats.Segments));
        return ExitCodes.Ok;
    }

    // The cursors (a damaged one by name: the files' reading lists them, a server refuses Stats instead),
    // then the table of segments: the same for the files and for a server.
    private static void PrintCursorsAndSegments(IReadOnlyDictionary<string, long> cursors, IReadOnlyList<string> damaged, IReadOnlyList<SegmentRow> segments)
    {
        var inv = Show.Invariant;
        Console.WriteLine(string.Create(inv, $"cursors:           {cursors.Count + damaged.Count}"));
        foreach (var (name, lsn) in cursors)
        {
            Console.WriteLine(string.Create(inv, $"  cursor {name}: committed LSN {lsn}"));
        }

        foreach (var name in damaged)
        {
            Console.WriteLine($"  cursor {name}: DAMAGED file, committed LSN unknown (opening the log refuses; 'truthdb repair' commits it again at LSN 0)");
        }

        var table = new Table().Title("Segments").Border(Terminal.Interactive ? TableBorder.Rounded : TableBorder.Ascii);
        table.AddColumns("segment", "first LSN", "last LSN", "records", "size", "used", "sealed", "created (UTC)");
        foreach (var segment in segments)
        {
            table.AddRow(
                segment.Name,
                segment.FirstLsn.ToString(inv),
                segment.LastLsn.ToString(inv),
                segment.Records.ToString(inv),
                Show.Bytes(segment.SegmentSize),
                segment.UsedBytes is { } used ? Show.Bytes(used) : "?",
                segment.IsSealed switch { true => "yes", false => "no", null => "?" },
                segment.CreatedAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", inv) ?? "?");
        }

        Terminal.Console.Write(table);
    }

    // What persisted evidence proves, and no more: the clean-close note, the watermark file's durable
    // LSN, seal trailers, frames' synced-LSN fields (LogStats.ProvenDurableLsn), and which of them.
    private static string Durable(LogStats stats) => stats.ProvenDurableLsn switch
    {
        0 => "none proven (no evidence in the files yet)",
        var lsn when lsn > stats.LastLsn => string.Create(CultureInfo.InvariantCulture,
            $"{lsn} proven by {stats.ProvenDurableBy}, but the log ends at {stats.LastLsn}: a durable record is missing or damaged (run 'truthdb verify')"),
        var lsn when lsn == stats.LastLsn => string.Create(CultureInfo.InvariantCulture, $"{lsn} (every record; proven by {stats.ProvenDurableBy})"),
        var lsn => string.Create(CultureInfo.InvariantCulture, $"at least {lsn} (proven by {stats.ProvenDurableBy}; records after it may be durable too)"),
    };

    private static void WriteJson(Utf8JsonWriter json, LogStats stats)
    {
        json.WriteString("source", "directory");
        json.WriteString("directory", stats.Directory);
        json.WriteStringOrNull("logId", JsonOutput.LogId(stats.LogId));
        json.WriteNumber("segmentCount", stats.Segments.Count);
        json.WriteNumber("records", stats.Records);
        json.WriteNumber("firstLsn", stats.FirstLsn);
        json.WriteNumber("lastLsn", stats.LastLsn);
        json.WriteNumber("writtenLsn", stats.LastLsn);
        json.WriteNumber("provenDurableLsn", stats.ProvenDurableLsn);
        json.WriteString("provenDurableBy", stats.ProvenDurableBy);
        json.WriteNumber("bytesOnDisk", stats.TotalBytes);
        json.WriteNumber("recordBytes", stats.RecordBytes);
        json.WriteCursors(stats.Cursors);
        json.WriteStartArray("damagedCursors");
        foreach (var name in stats.DamagedCursors)
        {
            json.WriteStringValue(name);
        }

        json.WriteEndArray();
        json.WriteSegments(stats.Segments);
    }
}
