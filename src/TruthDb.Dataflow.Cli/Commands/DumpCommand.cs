using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Inspection;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb dump</c>: every frame of a segment or of the whole directory, read-only; with
/// <c>--payload</c>, each readable record's bytes too (read through <see cref="WalReader"/>, so only
/// the records a reader returns: frames after damage or beyond the written watermark show none);
/// with <c>--json</c>, JSON Lines (README, "Machine-readable output"). Dump lists; it does not judge:
/// exit code 0 even when frames are damaged, with a note that <c>verify</c> is the check.
/// </summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var directory = CommonOptions.Directory();
        var segment = new Option<string?>("--segment", "-s")
        {
            Description = "Only this segment (its file name, e.g. 00000000000000000001.wal); default: every segment.",
            HelpName = "name",
        };
        var payload = new Option<string?>("--payload")
        {
            Description = "Also print each readable record's payload: 'text' (UTF-8, with \\n, \\t, \\\\ and \\xNN escapes so a frame stays one line) or 'hex'.",
            HelpName = "text|hex",
        };
        payload.AcceptOnlyFromAmong("text", "hex");
        var json = new Option<bool>("--json")
        {
            Description = "Print JSON Lines: one object per frame, then one summary object (the shape is in the README).",
        };
        var command = new Command("dump", "List every frame of a segment or of the log: LSN, segment, offset, length, synced LSN and checksum status (and payloads with --payload). Read-only: does not take the writer lock. A listing, not a check: 'truthdb verify' checks.")
        {
            directory, segment, payload, json,
        };
        command.SetAction((parse, ct) => Verb.RunAsync(() => RunAsync(parse.GetRequiredValue(directory), parse.GetValue(segment), parse.GetValue(payload), parse.GetValue(json), ct)));
        return command;
    }

    private static async Task<int> RunAsync(string directory, string? segment, string? payload, bool json, CancellationToken ct)
    {
        CommonOptions.RequireExistingLog(directory);
        var frames = LogInspector.Dump(directory, segment);
        await using var payloads = payload is null ? null : new Payloads(directory);
        await using var stdout = Console.OpenStandardOutput();
        using var text = new StreamWriter(stdout, new UTF8Encoding(false), leaveOpen: true);
        if (!json)
        {
            await text.WriteLineAsync($"{"lsn",12}  {"segment",-24}  {"offset",12}  {"length",10}  {"frame",10}  {"synced",12}  check{(payload is null ? string.Empty : "  payload")}");
        }

        long total = 0, bad = 0;
        foreach (var frame in frames)
        {
            ct.ThrowIfCancellationRequested();
            total++;
            if (frame.Check != FrameCheck.Valid)
            {
                bad++;
            }

            var bytes = payloads is null || frame.Check != FrameCheck.Valid ? null : await payloads.FindAsync(frame.Lsn, ct);
            if (json)
            {
                await text.FlushAsync(ct);
                JsonOutput.WriteLine(stdout, w => WriteFrame(w, frame, payload, bytes));
            }
            else
            {
                await text.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{frame.Lsn,12}  {frame.Segment,-24}  {frame.Offset,12}  {frame.PayloadLength,10}  {frame.FrameLength,10}  {frame.SyncedLsn,12}  {Describe(frame.Check)}{Payload(payload, frame, bytes)}"));
            }
        }

        if (json)
        {
            JsonOutput.WriteLine(stdout, w =>
            {
                w.WriteString("kind", "summary");
                w.WriteNumber("frames", total);
                w.WriteNumber("valid", total - bad);
                w.WriteNumber("notReadable", bad);
            });
        }
        else
        {
            await text.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{total} frame(s): {total - bad} valid, {bad} not part of the readable log"));
        }

        await text.FlushAsync(ct);
        if (bad > 0)
        {
            Terminal.Error(string.Create(CultureInfo.InvariantCulture,
                $"{bad} frame(s) are not part of the readable log. dump only lists frames; run 'truthdb verify' to check the log and learn what opening it would do."));
        }

        return ExitCodes.Ok;
    }

    private static void WriteFrame(Utf8JsonWriter json, FrameInfo frame, string? payload, byte[]? bytes)
    {
        json.WriteString("kind", "frame");
        json.WriteNumber("lsn", frame.Lsn);
        json.WriteString("segment", frame.Segment);
        json.WriteNumber("offset", frame.Offset);
        json.WriteNumber("payloadLength", frame.PayloadLength);
        json.WriteNumber("frameLength", frame.FrameLength);
        json.WriteNumber("syncedLsn", frame.SyncedLsn);
        json.WriteString("check", Check(frame.Check));
        switch (payload)
        {
            case "hex":
                json.WriteStringOrNull("hex", bytes is null ? null : Convert.ToHexStringLower(bytes));
                break;
            case "text":
                json.WriteStringOrNull("text", bytes is not null && Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : null);
                json.WriteStringOrNull("base64", bytes is null ? null : Convert.ToBase64String(bytes));
                break;
        }
    }

    private static string Payload(string? payload, FrameInfo frame, byte[]? bytes) => payload switch
    {
        null => string.Empty,
        _ when bytes is null => frame.Check == FrameCheck.Valid ? "  (not readable: beyond what a reader returns)" : "  -",
        "hex" => "  " + Convert.ToHexStringLower(bytes),
        _ => "  " + Escape(bytes),
    };

    // UTF-8 text with the bytes that would break the line or the terminal escaped.
    private static string Escape(byte[] bytes)
    {
        var text = new StringBuilder(bytes.Length);
        var decoded = Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : null;
        if (decoded is null)
        {
            foreach (var b in bytes)
            {
                text.Append(b is >= 0x20 and < 0x7f and not (byte)'\\' ? ((char)b).ToString() : string.Create(CultureInfo.InvariantCulture, $"\\x{b:x2}"));
            }

            return text.ToString();
        }

        foreach (var c in decoded)
        {
            text.Append(c switch
            {
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when char.IsControl(c) => string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => c.ToString(),
            });
        }

        return text.ToString();
    }

    private static string Describe(FrameCheck check) => check switch
    {
        FrameCheck.Valid => "ok",
        FrameCheck.ChecksumMismatch => "BAD checksum",
        FrameCheck.Truncated => "BAD cut off",
        FrameCheck.OutOfSequence => "BAD out of sequence",
        FrameCheck.AfterDamage => "ok, after damage (unreachable)",
        _ => "BAD (unknown check)",
    };

    // The JSON words of a frame's check (stable: new checks get new words).
    private static string Check(FrameCheck check) => check switch
    {
        FrameCheck.Valid => "ok",
        FrameCheck.ChecksumMismatch => "checksumMismatch",
        FrameCheck.Truncated => "truncated",
        FrameCheck.OutOfSequence => "outOfSequence",
        FrameCheck.AfterDamage => "afterDamage",
        _ => "unknown",
    };

    /// <summary>
    /// The payloads of the records a <see cref="WalReader"/> returns, found in LSN order alongside the
    /// frames; once the reader stops (the end of what it reads, or damage) later frames get none.
    /// </summary>
    private sealed class Payloads(string directory) : IAsyncDisposable
    {
        private readonly WalReader _reader = WalReader.Open(directory);
        private IAsyncEnumerator<WalRecord>? _records;
        private bool _ended;

        public async Task<byte[]?> FindAsync(long lsn, CancellationToken ct)
        {
            if (_records is null)
            {
                _records = _reader.ReadAsync(lsn, new ReadOptions { Watermark = WalWatermark.Written, StartAtFirstAvailable = true }, ct).GetAsyncEnumerator(ct);
                await NextAsync();
            }

            while (!_ended && _records.Current.Lsn < lsn)
            {
                await NextAsync();
            }

            return !_ended && _records.Current.Lsn == lsn ? _records.Current.Payload.ToArray() : null;
        }

        public async ValueTask DisposeAsync()
        {
            if (_records is not null)
            {
                await _records.DisposeAsync();
            }

            _reader.Dispose();
        }

        private async Task NextAsync()
        {
            try
            {
                _ended = !await _records!.MoveNextAsync();
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                // Damage: the reader stops here, like any reader; the frames say the rest.
                _ended = true;
            }
        }
    }
}
