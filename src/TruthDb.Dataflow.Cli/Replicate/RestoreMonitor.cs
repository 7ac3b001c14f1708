using System.Diagnostics;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Replication.Nats;

namespace TruthDb.Dataflow.Cli.Replicate;

/// <summary>Turns a restorer's progress into one line per interval (restored LSN, records/s, messages/s, MB/s, lag) and a summary.</summary>
internal sealed class RestoreMonitor(NatsRestorer restorer)
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _lastTimestamp = Stopwatch.GetTimestamp();
    private RestoreProgress _last = restorer.GetProgress();

    /// <summary>The line for the interval since the last call.</summary>
    public string NextLine()
    {
        var now = Stopwatch.GetTimestamp();
        var progress = restorer.GetProgress();
        var seconds = Math.Max(Stopwatch.GetElapsedTime(_lastTimestamp, now).TotalSeconds, 1e-9);
        var records = (progress.RecordsRestored - _last.RecordsRestored) / seconds;
        var messages = (progress.MessagesRestored - _last.MessagesRestored) / seconds;
        var bytes = (progress.BytesRestored - _last.BytesRestored) / seconds;
        _last = progress;
        _lastTimestamp = now;
        return string.Create(Show.Invariant,
            $"restored LSN {progress.RestoredLsn} | {records:N0} records/s | {messages:N0} messages/s | {Show.Bytes(bytes)}/s | lag {progress.LagLsns} LSNs | retries {progress.Retries}");
    }

    /// <summary>The closing line: totals since the start.</summary>
    public string Summary(string verb)
    {
        var progress = restorer.GetProgress();
        var seconds = Math.Max(Stopwatch.GetElapsedTime(_started).TotalSeconds, 1e-9);
        return string.Create(Show.Invariant,
            $"{verb}: the log in '{restorer.Directory}' holds up to LSN {progress.RestoredLsn} (the stream up to {progress.StreamLsn}); {progress.RecordsRestored:N0} records in {progress.MessagesRestored:N0} messages, {Show.Bytes(progress.BytesRestored)} in {seconds:0.0} s ({progress.RecordsRestored / seconds:N0} records/s, {Show.Bytes(progress.BytesRestored / seconds)}/s); {progress.Retries} retries");
    }
}
