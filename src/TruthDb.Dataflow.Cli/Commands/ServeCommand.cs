using System.CommandLine;
using System.Globalization;
using Nerdbank.Streams;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Ipc;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>
/// <c>truthdb serve</c>: opens the log and serves it to other processes (docs/ipc-protocol.md) on a
/// Unix domain socket (owner-only unless <c>--socket-mode</c> says otherwise), on stdio (so a parent
/// process can host the server as a child), or both. SIGTERM or Ctrl+C stops it gracefully: no new
/// connections or requests, the requests in flight finish, reads and tails end, the log is synced and
/// closed. Status lines go to stderr (stdout may carry the protocol). The retention options set the
/// log's <see cref="WalOptions.RetentionMaxBytes"/>, <see cref="WalOptions.RetentionMaxAge"/> and
/// <see cref="WalOptions.RetentionIgnoresCursors"/> (the last also governs <c>truncate --socket</c>).
/// With <c>--read-only</c> it opens the log with a <see cref="WalReader"/> instead (no writer lock, no
/// recovery, nothing written: another process, such as <c>truthdb restore --follow</c>, may write the
/// log meanwhile) and serves reads and tails as the writer's server does, refusing write requests with
/// the protocol's <c>ReadOnly</c> error; the options of the log's writer cannot be given with it.
/// </summary>
internal static class ServeCommand
{
    private const long MinMessageSize = 64 * 1024;
    private const long DefaultMessageSize = 4 * 1024 * 1024;

    public static Command Create()
    {
        var directory = CommonOptions.Directory();
        var socket = new Option<string?>("--socket", "-s")
        {
            Description = "Listen on this Unix domain socket path (a stale socket file there is replaced).",
            HelpName = "path",
        };
        var stdio = new Option<bool>("--stdio")
        {
            Description = "Serve one connection on stdin/stdout; the server stops when stdin closes (unless it also listens on --socket).",
        };
        var tokenFile = new Option<string?>("--token-file")
        {
            Description = $"Require this shared secret (the file's first line) in every connection's Hello. Without it, the {LogTarget.TokenVariable} environment variable is used when set.",
            HelpName = "file",
        };
        var socketMode = new Option<string>("--socket-mode")
        {
            Description = "Permissions of the socket file, octal (default 600: only the owner may connect).",
            DefaultValueFactory = _ => "600",
            HelpName = "octal",
        };
        socketMode.Validators.Add(result =>
        {
            if (!TryParseMode(result.GetValueOrDefault<string>() ?? string.Empty, out _))
            {
                result.AddError("--socket-mode is an octal permission such as 600 or 660.");
            }
        });
        var maxMessage = new Option<long>("--max-message-size")
        {
            Description = "The largest protocol message, bytes or with KiB/MiB (default 4MiB, or half of --segment-size when that is less; at least 64KiB, at most half of --segment-size; with --read-only: default 4MiB, at most 64MiB); it must hold the largest record a read returns.",
            DefaultValueFactory = _ => DefaultMessageSize,
            CustomParser = r => Sizes.Parse(r, MinMessageSize, 64 * 1024 * 1024),
            HelpName = "size",
        };
        var durability = CommonOptions.Durability();
        var segmentSize = Sizes.SegmentSizeOption();
        var verbose = CommonOptions.Verbose();
        var retentionBytes = new Option<long>("--retention-max-bytes")
        {
            Description = "Retention by size: when a segment is sealed, drop the oldest sealed segments while the log is larger than this, such as 10GiB (default 0: keep everything; at least twice --segment-size).",
            CustomParser = Sizes.Parse,
            HelpName = "size",
        };
        var retentionAge = new Option<TimeSpan>("--retention-max-age")
        {
            Description = "Retention by age: when a segment is sealed, drop the sealed segments whose newest record is older than this, such as 7d or 12h (default 0: keep everything).",
            CustomParser = Durations.Parse,
            HelpName = "duration",
        };
        var retentionIgnoresCursors = new Option<bool>("--retention-ignores-cursors")
        {
            Description = "Retention (the two options above and 'truthdb truncate --socket') may drop records durable cursors have not committed yet. Without it, it stops at the slowest cursor.",
        };
        var readOnly = new Option<bool>("--read-only")
        {
            Description = "Serve the log read-only, as it is: open it without the writer's lock (another process may write it, such as 'truthdb restore --follow' keeping a replica current), write nothing in --dir, and answer appends, cursor commits and truncation with the error ReadOnly. Reads and tails work as on the writer's server.",
        };
        var command = new Command("serve", "Serve the log in --dir to other processes over a Unix domain socket and/or stdio (MessagePack over a multiplexed stream; see docs/ipc-protocol.md) until SIGTERM or Ctrl+C. With --read-only, a log another process writes (a read replica): reads and tails only.")
        {
            directory, socket, stdio, tokenFile, socketMode, maxMessage, readOnly, durability, segmentSize, retentionBytes, retentionAge, retentionIgnoresCursors, verbose,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(socket) is null && !result.GetValue(stdio))
            {
                result.AddError("Give --socket PATH, --stdio, or both.");
            }

            if (result.GetValue(readOnly))
            {
                foreach (Option writerOption in (Option[])[durability, segmentSize, retentionBytes, retentionAge, retentionIgnoresCursors])
                {
                    if (result.GetResult(writerOption) is { Implicit: false })
                    {
                        result.AddError($"{writerOption.Name} cannot be used with --read-only: it is an option of the log's writer, and a read-only server writes nothing (give it to the process that writes the log).");
                    }
                }
            }
        });
        command.SetAction((parse, ct) => Verb.RunAsync(() => RunAsync(
            new ServeSettings(
                parse.GetRequiredValue(directory),
                parse.GetValue(socket),
                parse.GetValue(stdio),
                parse.GetValue(tokenFile),
                TryParseMode(parse.GetValue(socketMode) ?? "600", out var mode) ? mode : UnixFileMode.UserRead | UnixFileMode.UserWrite,
                MessageSize(parse.GetResult(maxMessage) is { Implicit: false } ? parse.GetValue(maxMessage) : null, parse.GetValue(readOnly) ? null : parse.GetValue(segmentSize)),
                CommonOptions.ParseDurability(parse.GetValue(durability)),
                parse.GetValue(segmentSize),
                new Retention(parse.GetValue(retentionBytes), parse.GetValue(retentionAge), parse.GetValue(retentionIgnoresCursors)),
                parse.GetValue(readOnly)),
            parse.GetValue(verbose),
            ct)));
        return command;
    }

    private static async Task<int> RunAsync(ServeSettings settings, bool verbose, CancellationToken ct)
    {
        var token = LogTarget.ReadToken(settings.TokenFile);
        var serverOptions = new TruthDbServerOptions
        {
            Token = token,
            MaxMessageSize = settings.MaxMessageSize,
            SocketFileMode = settings.SocketMode,
        };
        if (settings.ReadOnly)
        {
            return await RunReadOnlyAsync(settings, serverOptions, ct);
        }

        await using var wal = await CommonOptions.OpenAsync(
            new WalOptions
            {
                Directory = settings.Directory,
                Durability = settings.Durability,
                SegmentSize = settings.SegmentSize,
                RetentionMaxBytes = settings.Retention.MaxBytes,
                RetentionMaxAge = settings.Retention.MaxAge,
                RetentionIgnoresCursors = settings.Retention.IgnoresCursors,
                Logger = CommonOptions.EngineLogger(verbose),
            },
            ct);
        await ServeAsync(
            new TruthDbServer(wal, serverOptions),
            settings,
            where => string.Create(CultureInfo.InvariantCulture,
                $"truthdb: serving {Path.GetFullPath(settings.Directory)} (log {JsonOutput.LogId(wal.LogId)}, LSN {wal.FirstLsn}..{wal.WrittenLsn}, {settings.Durability}) on {where}{(token is null ? string.Empty : ", token required")}{settings.Retention.Describe()}"),
            ct);
        await wal.DisposeAsync();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"truthdb: stopped; the log is synced and closed at LSN {wal.DurableLsn}"));
        return ExitCodes.Ok;
    }

    // The log as it is, through a WalReader: no lock, no recovery, nothing written in the directory.
    private static async Task<int> RunReadOnlyAsync(ServeSettings settings, TruthDbServerOptions serverOptions, CancellationToken ct)
    {
        CommonOptions.RequireExistingLog(settings.Directory);
        using var reader = WalReader.Open(settings.Directory);
        await ServeAsync(
            TruthDbServer.CreateReadOnly(reader, serverOptions),
            settings,
            where => string.Create(CultureInfo.InvariantCulture,
                $"truthdb: serving {Path.GetFullPath(settings.Directory)} read-only (log {JsonOutput.LogId(reader.LogId)}, LSN {reader.FirstLsn}..{reader.WrittenLsn}, {(reader.IsWriterOpen ? "a writer has it open" : "no writer has it open")}) on {where}{(serverOptions.Token is null ? string.Empty : ", token required")}"),
            ct);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"truthdb: stopped; served read-only up to LSN {reader.WrittenLsn}, nothing written"));
        return ExitCodes.Ok;
    }

    // Listens and/or serves stdio, prints the status line, and serves until a signal (with stdio
    // alone, also until the parent closes stdin); then stops the server gracefully.
    private static async Task ServeAsync(TruthDbServer server, ServeSettings settings, Func<string, string> status, CancellationToken ct)
    {
        // SIGTERM and Ctrl+C cancel ct (Program.cs).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await using (server)
        {
            var where = new List<string>();
            if (settings.Socket is { } path)
            {
                try
                {
                    await server.ListenAsync(path, ct);
                }
                catch (System.Net.Sockets.SocketException ex)
                {
                    throw new CliException($"Cannot listen on '{path}': {ex.Message}", ex);
                }

                where.Add(Path.GetFullPath(path));
            }

            Task stdioServed = Task.Delay(Timeout.Infinite, stop.Token);
            if (settings.Stdio)
            {
                var duplex = FullDuplexStream.Splice(Console.OpenStandardInput(), Console.OpenStandardOutput());
                stdioServed = server.ServeAsync(duplex, stop.Token);
                where.Add("stdio");
            }

            Console.Error.WriteLine(status(string.Join(" and ", where)));
            var stopped = Task.Delay(Timeout.Infinite, stop.Token);
            await Task.WhenAny(stopped, settings.Socket is null ? stdioServed : stopped);
            await server.StopAsync();
        }
    }

    // A client joins concurrent appends into one message and the server appends a message into one
    // segment, so a message must fit in a segment with room to spare: at most half of one. Without
    // --max-message-size: 4 MiB, or half a segment when that is less. A read-only server appends
    // nothing (no segment size): 4 MiB unless asked.
    private static int MessageSize(long? requested, long? segmentSize)
    {
        if (segmentSize is not { } segment)
        {
            return (int)(requested ?? DefaultMessageSize);
        }

        if (segment < 2 * MinMessageSize)
        {
            throw new CliException($"--segment-size is {segment} bytes; serving needs at least {2 * MinMessageSize} (128KiB), twice the smallest --max-message-size.", ExitCodes.Usage);
        }

        if (requested > segment / 2)
        {
            throw new CliException($"--max-message-size is {requested} bytes, more than half of --segment-size ({segment} bytes): a message of appends might not fit in one segment.", ExitCodes.Usage);
        }

        return (int)(requested ?? Math.Min(DefaultMessageSize, segment / 2));
    }

    private static bool TryParseMode(string text, out UnixFileMode mode)
    {
        mode = 0;
        if (text.Length is < 3 or > 4)
        {
            return false;
        }

        var value = 0;
        foreach (var c in text)
        {
            if (c is < '0' or > '7')
            {
                return false;
            }

            value = (value * 8) + (c - '0');
        }

        mode = (UnixFileMode)value;
        return true;
    }

    private sealed record ServeSettings(string Directory, string? Socket, bool Stdio, string? TokenFile, UnixFileMode SocketMode, int MaxMessageSize, Durability Durability, long SegmentSize, Retention Retention, bool ReadOnly);

    private sealed record Retention(long MaxBytes, TimeSpan MaxAge, bool IgnoresCursors)
    {
        // The age in the duration grammar's largest whole unit: 7d, 12h, 90s.
        private static string Age(TimeSpan age) => age switch
        {
            _ when age.Ticks % TimeSpan.TicksPerDay == 0 => string.Create(CultureInfo.InvariantCulture, $"{age.Ticks / TimeSpan.TicksPerDay}d"),
            _ when age.Ticks % TimeSpan.TicksPerHour == 0 => string.Create(CultureInfo.InvariantCulture, $"{age.Ticks / TimeSpan.TicksPerHour}h"),
            _ when age.Ticks % TimeSpan.TicksPerMinute == 0 => string.Create(CultureInfo.InvariantCulture, $"{age.Ticks / TimeSpan.TicksPerMinute}m"),
            _ when age.Ticks % TimeSpan.TicksPerSecond == 0 => string.Create(CultureInfo.InvariantCulture, $"{age.Ticks / TimeSpan.TicksPerSecond}s"),
            _ => age.ToString("c", CultureInfo.InvariantCulture),
        };

        public string Describe()
        {
            var parts = new List<string>();
            if (MaxBytes > 0)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"at most {Show.Bytes(MaxBytes)}"));
            }

            if (MaxAge > TimeSpan.Zero)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"at most {Age(MaxAge)} old"));
            }

            if (parts.Count == 0 && !IgnoresCursors)
            {
                return string.Empty;
            }

            return ", retention " + (parts.Count == 0 ? "by truncate only" : string.Join(" and ", parts)) + (IgnoresCursors ? ", passing cursors" : ", up to the slowest cursor");
        }
    }
}
