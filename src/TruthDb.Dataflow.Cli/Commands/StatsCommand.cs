using System.CommandLine;
using Spectre.Console;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Inspection;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary><c>truthdb stats</c>: segments, sizes, watermarks, first and last LSN, read-only.</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var directory = CommonOptions.Directory();
        var command = new Command("stats", "Show the log's segments, sizes, first and last LSN and watermarks, read from the files (no writer lock).")
        {
            directory,
        };
        command.SetAction((parse, ct) => Verb.RunAsync(() => Task.FromResult(Run(parse.GetRequiredValue(directory)))));
        return command;
    }

    private static int Run(string directory)
    {
        CommonOptions.RequireExistingLog(directory);
        var stats = LogInspector.GetStats(directory);
        var inv = Show.Invariant;
        Console.WriteLine($"directory:         {stats.Directory}");
        Console.WriteLine($"log id:            {stats.LogId ?? "(unreadable)"}");
        Console.WriteLine(string.Create(inv, $"segments:          {stats.Segments.Count}"));
        Console.WriteLine(string.Create(inv, $"records:           {stats.Records}"));
        Console.WriteLine(string.Create(inv, $"first LSN:         {stats.FirstLsn}"));
        Console.WriteLine(string.Create(inv, $"last LSN:          {stats.LastLsn} (written watermark as on disk)"));
        Console.WriteLine(string.Create(inv, $"durable LSN:       at least {stats.KnownDurableLsn} (proven by seal trailers and synced-LSN fields)"));
        Console.WriteLine(string.Create(inv, $"bytes on disk:     {stats.TotalBytes} ({Show.Bytes(stats.TotalBytes)})"));
        Console.WriteLine(string.Create(inv, $"bytes in records:  {stats.RecordBytes} ({Show.Bytes(stats.RecordBytes)})"));
        Console.WriteLine(string.Create(inv, $"cursors:           {stats.Cursors.Count}"));
        foreach (var (name, lsn) in stats.Cursors)
        {
            Console.WriteLine(string.Create(inv, $"  cursor {name}: committed LSN {lsn}"));
        }

        var table = new Table().Title("Segments").Border(Terminal.Interactive ? TableBorder.Rounded : TableBorder.Ascii);
        table.AddColumns("segment", "first LSN", "last LSN", "records", "size", "used", "sealed", "created (UTC)");
        foreach (var segment in stats.Segments)
        {
            table.AddRow(
                segment.Name,
                segment.FirstLsn.ToString(inv),
                segment.LastLsn.ToString(inv),
                segment.Records.ToString(inv),
                Show.Bytes(segment.SegmentSize),
                Show.Bytes(Math.Max(segment.RecordsEnd - 4096, 0)),
                segment.IsSealed ? "yes" : "no",
                segment.CreatedAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", inv) ?? "?");
        }

        Terminal.Console.Write(table);
        return ExitCodes.Ok;
    }
}
