using System.CommandLine;
using TruthDb.Dataflow.Ipc;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>
/// Where a verb finds the log: its directory (<c>--dir</c>) or a <c>truthdb serve</c> of it
/// (<c>--socket</c>, or the <c>TRUTHDB_SOCKET</c> environment variable when neither flag is given).
/// A served log is reached through <see cref="TruthDbClient"/>, with the token from
/// <c>--token-file</c> or <c>TRUTHDB_TOKEN</c>, as <c>serve</c> reads it.
/// </summary>
internal sealed class LogTarget
{
    /// <summary>The environment variable a socket path may come from instead of <c>--socket</c>.</summary>
    public const string SocketVariable = "TRUTHDB_SOCKET";

    /// <summary>The environment variable a token may come from instead of <c>--token-file</c>.</summary>
    public const string TokenVariable = "TRUTHDB_TOKEN";

    private LogTarget(Option<string?> directory, Option<string?> socket, Option<string?> tokenFile)
    {
        Directory = directory;
        Socket = socket;
        TokenFile = tokenFile;
    }

    /// <summary>The <c>--dir</c> option (not required: <c>--socket</c> may stand instead).</summary>
    public Option<string?> Directory { get; }

    /// <summary>The <c>--socket</c> option.</summary>
    public Option<string?> Socket { get; }

    /// <summary>The <c>--token-file</c> option.</summary>
    public Option<string?> TokenFile { get; }

    /// <summary>Adds <c>--dir</c>, <c>--socket</c> and <c>--token-file</c> to <paramref name="command"/>, with the check that exactly one log is named.</summary>
    public static LogTarget AddTo(Command command)
    {
        var target = new LogTarget(
            new Option<string?>("--dir", "-d")
            {
                Description = "The log directory (or give --socket).",
                HelpName = "path",
            },
            new Option<string?>("--socket")
            {
                Description = $"Talk to the 'truthdb serve' listening on this Unix domain socket instead of opening --dir (default: the {SocketVariable} environment variable, when --dir is not given).",
                HelpName = "path",
            },
            new Option<string?>("--token-file")
            {
                Description = $"With --socket: the file whose first line is the server's token (default: the {TokenVariable} environment variable).",
                HelpName = "file",
            });
        command.Add(target.Directory);
        command.Add(target.Socket);
        command.Add(target.TokenFile);
        command.Validators.Add(result =>
        {
            var hasDirectory = result.GetValue(target.Directory) is not null;
            var hasSocket = result.GetValue(target.Socket) is not null;
            if (hasDirectory && hasSocket)
            {
                result.AddError("--dir and --socket cannot be used together: --dir opens the log's files, --socket talks to a 'truthdb serve' of it. Give one.");
            }
            else if (!hasDirectory && !hasSocket && EnvironmentSocket() is null)
            {
                result.AddError($"Give --dir PATH (the log directory) or --socket PATH (a log served by 'truthdb serve'; or set {SocketVariable}).");
            }

            if (hasDirectory && result.GetValue(target.TokenFile) is not null)
            {
                result.AddError("--token-file goes with --socket (a log opened from --dir needs no token).");
            }
        });
        return target;
    }

    /// <summary>The socket path the parse names (<c>--socket</c>, else <c>TRUTHDB_SOCKET</c> when there is no <c>--dir</c>), or null for a directory.</summary>
    public string? SocketPath(ParseResult parse) =>
        parse.GetValue(Socket) ?? (parse.GetValue(Directory) is null ? EnvironmentSocket() : null);

    /// <summary>The directory the parse names (only meaningful when <see cref="SocketPath"/> is null).</summary>
    public string DirectoryPath(ParseResult parse) => parse.GetValue(Directory) ?? string.Empty;

    /// <summary>Fails with a usage error when <paramref name="option"/> was given explicitly together with a socket: it only applies to a log opened from --dir.</summary>
    public static void RejectWithSocket(ParseResult parse, Option option, string why)
    {
        if (parse.GetResult(option) is { Implicit: false })
        {
            throw new CliException($"{option.Name} cannot be used with --socket: {why}", ExitCodes.Usage);
        }
    }

    /// <summary>
    /// Connects to the server on <paramref name="socketPath"/>. Failures become one line in the CLI's
    /// words: nobody listening (or no such socket), a refused token, a server of another protocol version.
    /// </summary>
    public static async Task<TruthDbClient> ConnectAsync(string socketPath, string? tokenFile, bool durableAppends, CancellationToken ct)
    {
        var options = new TruthDbClientOptions { Token = ReadToken(tokenFile), ClientName = "truthdb", DurableAppends = durableAppends };
        if (!File.Exists(socketPath))
        {
            throw new CliException(System.IO.Directory.Exists(socketPath)
                ? $"--socket '{socketPath}' is a directory, not a socket (give the path 'truthdb serve --socket' listens on, or use --dir for a log directory)."
                : $"Nothing listens on '{socketPath}': there is no such socket. Start 'truthdb serve --dir PATH --socket {socketPath}', or check the path.");
        }

        try
        {
            return await TruthDbClient.ConnectAsync(socketPath, options, ct);
        }
        catch (TruthDbConnectionException ex)
        {
            throw new CliException($"Cannot connect to the log served on '{socketPath}': {Reason(ex)} Is 'truthdb serve --socket {socketPath}' running?", ex);
        }
        catch (TruthDbException ex) when (ex.ErrorCode == TruthDbErrorCode.Unauthorized)
        {
            throw new CliException(
                $"The server on '{socketPath}' refused the token: give the one it was started with, in --token-file or {TokenVariable}{(options.Token is null ? " (none was given)" : string.Empty)}.", ex);
        }
        catch (TruthDbException ex) when (ex.ErrorCode == TruthDbErrorCode.UnsupportedVersion)
        {
            throw new CliException($"The server on '{socketPath}' speaks another protocol version: {ex.Message} Use a truthdb of the same version as the server.", ex);
        }
    }

    /// <summary>The token: the first line of <paramref name="file"/>, else <c>TRUTHDB_TOKEN</c>, else none.</summary>
    public static string? ReadToken(string? file)
    {
        if (file is not null)
        {
            if (System.IO.Directory.Exists(file))
            {
                throw new CliException($"--token-file '{file}' is a directory; give the file holding the token.", ExitCodes.Usage);
            }

            if (!File.Exists(file))
            {
                throw new CliException($"--token-file '{file}' does not exist.", ExitCodes.Usage);
            }

            var line = File.ReadLines(file).FirstOrDefault()?.Trim();
            return string.IsNullOrEmpty(line) ? throw new CliException($"--token-file '{file}' is empty: its first line is the token.", ExitCodes.Usage) : line;
        }

        return Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment.Trim() : null;
    }

    private static string Reason(Exception ex)
    {
        var message = (ex.InnerException as System.Net.Sockets.SocketException)?.Message ?? ex.Message;
        return message.EndsWith('.') ? message : message + ".";
    }

    private static string? EnvironmentSocket() =>
        Environment.GetEnvironmentVariable(SocketVariable) is { Length: > 0 } path ? path : null;
}
