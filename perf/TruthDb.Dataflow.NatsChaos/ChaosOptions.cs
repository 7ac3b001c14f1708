using System.Globalization;

namespace TruthDb.Dataflow.NatsChaos;

/// <summary>The command line: see <see cref="Usage"/>.</summary>
internal sealed record ChaosOptions
{
    public const string Usage = """
        usage: TruthDb.Dataflow.NatsChaos [options]
          --publishers plain,headers   publisher variants to run (plain: no headers, each number sent once;
                                       msgid: the same with Nats-Msg-Id; headers: Nats-Msg-Id + expected last
                                       msg id / sequence, re-publishing after the stream's last message when
                                       an epoch fails)
          --sync default,always        JetStream sync settings to run (always: jetstream { sync_interval: always })
          --rounds 1                   rounds of each variant, each on a fresh 3-node cluster (0: none)
          --seconds 60                 publishing time of a round
          --kills LLFL                 the SIGKILLs of a round, evenly spread over it, in order: L the stream
                                       leader, F a follower (each restarted after --down)
          --down 3                     seconds a killed node stays down
          --wait healthy               before the next kill, wait until every node reports healthy JetStream
                                       (healthy), or only until the restarted process runs (running: a node may
                                       be killed while another still catches up)
          --rate 2000                  publishes per second at most (the read-back is one request per message)
          --in-flight 256              publishes awaiting their acknowledgement at most
          --payload 128                bytes per message (the first 8 hold its number)
          --throughput-seconds 0       also measure publish throughput per sync setting (R3, 1 KiB,
                                       1,024 in flight) for this many seconds a run; 0: no
          --throughput-runs 3          runs per sync setting (the median is printed)
          --server-debug no            yes: the servers log at debug level (kept in logs/ beside the clusters;
                                       a replica that drops a replicated message says so only there)
          --nats-server nats-server    the server binary
          --dir DIR                    where clusters keep their storage (default: a new temp directory)
        """;

    public IReadOnlyList<string> Publishers { get; private init; } = ["plain", "headers"];

    public IReadOnlyList<string> Syncs { get; private init; } = ["default", "always"];

    public int Rounds { get; private init; } = 1;

    public int Seconds { get; private init; } = 60;

    public string Kills { get; private init; } = "LLFL";

    public int DownSeconds { get; private init; } = 3;

    public bool WaitHealthy { get; private init; } = true;

    public int Rate { get; private init; } = 2000;

    public int InFlight { get; private init; } = 256;

    public int Payload { get; private init; } = 128;

    public int ThroughputSeconds { get; private init; }

    public int ThroughputRuns { get; private init; } = 3;

    public bool ServerDebug { get; private init; }

    public string NatsServer { get; private init; } = "nats-server";

    public string? Directory { get; private init; }

    public static ChaosOptions Parse(string[] args)
    {
        var options = new ChaosOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            var value = i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            options = name switch
            {
                "--publishers" => options with { Publishers = List(name, value, "plain", "msgid", "headers") },
                "--sync" => options with { Syncs = List(name, value, "default", "always") },
                "--rounds" => options with { Rounds = NonNegative(name, value) },
                "--seconds" => options with { Seconds = Positive(name, value) },
                "--kills" => options with { Kills = value.All(c => c is 'L' or 'F') ? value : throw new ArgumentException($"--kills takes letters L (leader) and F (follower); got '{value}'.") },
                "--down" => options with { DownSeconds = NonNegative(name, value) },
                "--wait" => options with { WaitHealthy = List(name, value, "healthy", "running") is ["healthy"] },
                "--rate" => options with { Rate = Positive(name, value) },
                "--in-flight" => options with { InFlight = Positive(name, value) },
                "--payload" => options with { Payload = Positive(name, value) },
                "--throughput-seconds" => options with { ThroughputSeconds = NonNegative(name, value) },
                "--throughput-runs" => options with { ThroughputRuns = Positive(name, value) },
                "--server-debug" => options with { ServerDebug = List(name, value, "yes", "no") is ["yes"] },
                "--nats-server" => options with { NatsServer = value },
                "--dir" => options with { Directory = value },
                _ => throw new ArgumentException($"Unknown option {name}."),
            };
        }

        return options;
    }

    private static string[] List(string name, string value, params string[] allowed)
    {
        var items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return items.Length > 0 && items.All(allowed.Contains)
            ? items
            : throw new ArgumentException($"{name} takes a comma-separated list of {string.Join(", ", allowed)}; got '{value}'.");
    }

    private static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{name} takes a whole number above 0; got '{value}'.");

    private static int NonNegative(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"{name} takes a whole number, 0 or more; got '{value}'.");
}
