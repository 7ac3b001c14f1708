using System.Text.Json;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Ipc;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb stats --socket</c>: what the server reports (the Stats request), with the segments and
/// cursors printed as <c>stats --dir</c> prints them. A server knows its segments from the open log, not
/// from reading the files: a file's length and the bytes its records use are not known (<c>?</c> in the
/// table, <c>null</c> in JSON), nor, on a read-only server, whether the last segment is sealed. A server
/// from before the segments and cursors were in the protocol sends none: the lists are empty, and the
/// segment count, which a log never has at 0, is not known (<c>?</c>, JSON <c>null</c>).
/// </summary>
internal static partial class StatsCommand
{
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
        Console.WriteLine(string.Create(inv, $"segments:          {(SegmentCount(stats) is { } count ? count.ToString(inv) : "? (the server does not report them)")}"));
        Console.WriteLine(string.Create(inv, $"first LSN:         {stats.FirstLsn}"));
        Console.WriteLine(string.Create(inv, $"last LSN:          {stats.WrittenLsn} (written watermark)"));
        Console.WriteLine(string.Create(inv, $"durable LSN:       {stats.DurableLsn} (durable watermark)"));
        Console.WriteLine(string.Create(inv, $"since opened:      {stats.Appends} appends in {stats.Batches} batches, {stats.Syncs} syncs ({stats.SyncTime.TotalMilliseconds:0.###} ms), {stats.BytesWritten} bytes written ({Show.Bytes(stats.BytesWritten)})"));
        Console.WriteLine(string.Create(inv, $"pending bytes:     {stats.PendingBytes}"));
        Console.WriteLine(string.Create(inv, $"connections:       {stats.Connections}, subscriptions {stats.Subscriptions}"));
        PrintCursorsAndSegments(stats.Cursors, [], SegmentRow.Of(stats.Segments));
        return ExitCodes.Ok;
    }

    // A log has at least one segment: none means a server from before they were in the protocol.
    private static long? SegmentCount(TruthDbServerStatistics stats) => stats.Segments.Count > 0 ? stats.Segments.Count : null;

    private static void WriteJson(Utf8JsonWriter json, string socket, string serverName, TruthDbServerStatistics stats)
    {
        json.WriteString("source", "socket");
        json.WriteString("socket", Path.GetFullPath(socket));
        json.WriteString("serverName", serverName);
        json.WriteString("logId", JsonOutput.LogId(stats.LogId));
        json.WriteNumberOrNull("segmentCount", SegmentCount(stats));
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
        json.WriteCursors(stats.Cursors);
        json.WriteSegments(SegmentRow.Of(stats.Segments));
    }
}
