using System.CommandLine;
using System.CommandLine.Invocation;
using TruthDb.Dataflow.Cli.Commands;
using TruthDb.Dataflow.Cli.Support;

var root = new RootCommand(
    "truthdb: append to, read, inspect, verify and benchmark a TruthDb.Dataflow write-ahead log. "
    + "Exit codes: 0 success (verify: clean), 1 failure, 2 bad arguments, 3 verify found only a tail that opening the log truncates, 4 verify found corruption.")
{
    AppendCommand.Create(),
    ReadCommand.Create(follow: false),
    ReadCommand.Create(follow: true),
    DumpCommand.Create(),
    VerifyCommand.Create(),
    StatsCommand.Create(),
    TruncateCommand.Create(),
    BenchCommand.Create(),
    ServeCommand.Create(),
    ReplicateCommand.Create(),
};

var parse = root.Parse(args);
if (parse.Action is ParseErrorAction)
{
    // Bad arguments: say what is wrong and how to get help, with the usage exit code (help itself
    // takes precedence over errors, so `truthdb append --help` works without --dir).
    foreach (var error in parse.Errors)
    {
        Terminal.Error(error.Message);
    }

    var verb = parse.CommandResult.Command == root ? string.Empty : parse.CommandResult.Command.Name + " ";
    Console.Error.WriteLine($"Run 'truthdb {verb}--help' for usage.");
    return ExitCodes.Usage;
}

// Ctrl+C / SIGTERM cancel the verb's token; the verb then finishes cleanly (a tail flushes and
// exits 0, serve drains and syncs, replicate commits its cursor). System.CommandLine forces exit
// code 130/143 if that takes longer than this; its default of 2 s is too short on a loaded machine
// (a tail could exit 130 right after printing everything) and for a server draining its appends.
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });
