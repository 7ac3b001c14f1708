using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Ipc;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb stats</c>: segments, sizes, watermarks, first and last LSN, read-only from the files; or,
/// with <c>--socket</c>, the watermarks and counters a <c>truthdb serve</c> reports. <c>--json</c>
/// prints one JSON object instead (README, "Machine-readable output").
/// </summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object (the shape is in the README) instead of text.",
        };
        var command = new Command("stats", "Show the log's segments, sizes, first and last LSN and watermarks, read from the files (no writer lock); with --socket, what the server reports.");
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
        json.WriteStartArray("cursors");
        foreach (var (name, lsn) in stats.Cursors)
        {
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteNumber("committedLsn", lsn);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteSegments(stats.Segments);
    }

    private static async Task<int> RunServedAsync(string socket, string? tokenFile, bool json, CancellationToken ct)
    {
        await using var client = await LogTarget.ConnectAsync(socket, tokenFile, durableAppends: true, ct);
        var stats = await client.GetStatisticsAsync(ct);
        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            JsonOutput.WriteLine(stdout, w => WriteJson(w, socket, client.ServerName, stats));
            return ExitCodes.Ok;
        }

        var inv = Show.Invariant;
        Console.WriteLine($"socket:            {Path.GetFullPath(socket)} (server {client.ServerName}{(stats.ReadOnly ? ", read-only: it writes nothing, appends go to the log's writer" : string.Empty)})");
        Console.WriteLine($"log id:            {JsonOutput.LogId(stats.LogId)}");
        Console.WriteLine(string.Create(inv, $"first LSN:         {stats.FirstLsn}"));
        Console.WriteLine(string.Create(inv, $"last LSN:          {stats.WrittenLsn} (written watermark)"));
        Console.WriteLine(string.Create(inv, $"durable LSN:       {stats.DurableLsn} (durable watermark)"));
        Console.WriteLine(string.Create(inv, $"since opened:      {stats.Appends} appends in {stats.Batches} batches, {stats.Syncs} syncs ({stats.SyncTime.TotalMilliseconds:0.###} ms), {stats.BytesWritten} bytes written ({Show.Bytes(stats.BytesWritten)})"));
        Console.WriteLine(string.Create(inv, $"pending bytes:     {stats.PendingBytes}"));
        Console.WriteLine(string.Create(inv, $"connections:       {stats.Connections}, subscriptions {stats.Subscriptions}"));
        return ExitCodes.Ok;
    }

    private static void WriteJson(Utf8JsonWriter json, string socket, string serverName, TruthDbServerStatistics stats)
    {
        json.WriteString("source", "socket");
        json.WriteString("socket", Path.GetFullPath(socket));
        json.WriteString("serverName", serverName);
        json.WriteString("logId", JsonOutput.LogId(stats.LogId));
        json.WriteNumber("firstLsn", stats.FirstLsn);
        json.WriteNumber("lastLsn", stats.WrittenLsn);
        json.WriteNumber("writtenLsn", stats.WrittenLsn);
        json.WriteNumber("durableLsn", stats.DurableLsn);
        json.WriteNumber("appends", stats.Appends);
        json.WriteNumber("batches", stats.Batches);
        json.WriteNumber("syncs", stats.Syncs);
        json.WriteNumber("syncMicroseconds", (long)stats.SyncTime.TotalMicroseconds);
        json.WriteNumber("bytesWritten", stats.BytesWritten);
        json.WriteNumber("pendingBytes", stats.PendingBytes);
        json.WriteNumber("connections", stats.Connections);
        json.WriteNumber("subscriptions", stats.Subscriptions);
        json.WriteBoolean("readOnly", stats.ReadOnly);
    }
}
