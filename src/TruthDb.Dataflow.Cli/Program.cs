using System.CommandLine;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using TruthDb.Dataflow.Cli.Commands;
using TruthDb.Dataflow.Cli.Support;

// Signals are handled from the start, not only once a verb runs: System.CommandLine registers its
// own handler only after it has started the verb's action, so a signal sent right after a verb's
// first output could meet no handler at all and end the process with the runtime's default (130).
using var interrupts = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);

var root = new RootCommand(
    "truthdb: append to, read, inspect, verify and benchmark a TruthDb.Dataflow write-ahead log. "
    + "Exit codes: 0 success (verify: clean), 1 failure, 2 bad arguments, 3 verify found only a tail that opening the log truncates, 4 verify found corruption, 5 replicate, restore: the stream does not hold what the log says was shipped (a gap, a regression, another history of the log).")
{
    AppendCommand.Create(),
    ReadCommand.Create(follow: false),
    ReadCommand.Create(follow: true),
    DumpCommand.Create(),
    VerifyCommand.Create(),
    StatsCommand.Create(),
    TruncateCommand.Create(),
    RepairCommand.Create(),
    BenchCommand.Create(),
    ServeCommand.Create(),
    ReplicateCommand.Create(),
    RestoreCommand.Create(),
};

var parse = root.Parse(args);
if (parse.Action is ParseErrorAction)
{
    // Bad arguments: say what is wrong and how to get help, with the usage exit code (help itself
    // takes precedence over errors, so `truthdb append --help` works without --dir).
    foreach (var line in ParseErrors.Describe(parse.Errors))
    {
        Terminal.Error(line);
    }

    var verb = parse.CommandResult.Command == root ? string.Empty : parse.CommandResult.Command.Name + " ";
    Console.Error.WriteLine($"Run 'truthdb {verb}--help' for usage.");
    return ExitCodes.Usage;
}

return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, interrupts.Token);

// The first Ctrl+C (SIGINT) or SIGTERM is intercepted and cancels the verb's token; the verb then
// finishes cleanly (a tail flushes and exits 0, serve drains and syncs, replicate commits its cursor).
// A second one is left to the runtime, which ends the process (exit code 130 / 143).
void Interrupt(PosixSignalContext context)
{
    if (!interrupts.IsCancellationRequested)
    {
        context.Cancel = true;
        interrupts.Cancel();
    }
}