using System.CommandLine;
using NATS.Client.Core;
using Spectre.Console;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Replication.Nats;

namespace TruthDb.Dataflow.Cli.Replicate;

/// <summary>What <c>replicate</c> and <c>restore</c> share: the connection to the NATS servers, and the progress line per interval.</summary>
internal static class NatsConnect
{
    /// <summary>The <c>--nats</c> default.</summary>
    public const string DefaultUrl = "nats://127.0.0.1:4222";

    /// <summary>The <c>--nats</c> option: the servers' URLs.</summary>
    public static Option<string> UrlsOption() => new("--nats")
    {
        Description = "The NATS servers: one URL or several separated by commas (default nats://127.0.0.1:4222).",
        DefaultValueFactory = _ => DefaultUrl,
        HelpName = "urls",
    };

    /// <summary>The required <c>--stream</c> option, whose name is checked as JetStream checks it (a usage error otherwise).</summary>
    public static Option<string> StreamOption(Command command, string description)
    {
        var stream = new Option<string>("--stream", "-s") { Description = description, Required = true, HelpName = "name" };
        command.Validators.Add(result =>
        {
            if (result.GetValue(stream) is { } name && !LogNames.IsStreamName(name))
            {
                result.AddError($"'{name}' is not a stream name: 1 to 255 printable characters without spaces, '.', '*', '>', '/' or '\\'.");
            }
        });
        return stream;
    }

    /// <summary>Connects to <paramref name="urls"/> (comma-separated), or fails in the CLI's words.</summary>
    public static async Task<NatsConnection> ConnectAsync(string urls, string name, int pending)
    {
        var connection = new NatsConnection(new NatsOpts
        {
            Url = urls,
            Name = name,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            RequestTimeout = TimeSpan.FromSeconds(5),
            SubPendingChannelCapacity = pending,
        });
        try
        {
            await connection.ConnectAsync();
            return connection;
        }
        catch (NatsException ex)
        {
            await connection.DisposeAsync();
            throw new CliException($"Cannot connect to NATS at {urls}: {ex.Message}");
        }
    }

    /// <summary>Prints <paramref name="nextLine"/> once per interval until <paramref name="run"/> ends: a status line on a terminal, plain lines otherwise.</summary>
    public static async Task ReportAsync(Task run, Func<string> nextLine, TimeSpan interval)
    {
        if (Terminal.Interactive)
        {
            await Terminal.Console.Status().StartAsync("connecting", async status =>
            {
                while (!run.IsCompleted)
                {
                    await Task.WhenAny(run, Task.Delay(interval, CancellationToken.None));
                    status.Status(Markup.Escape(nextLine()));
                }
            });
        }
        else
        {
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(interval, CancellationToken.None));
                if (!run.IsCompleted)
                {
                    Console.WriteLine(nextLine());
                }
            }
        }

        await run;
    }
}
