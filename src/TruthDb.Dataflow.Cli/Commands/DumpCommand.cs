using System.CommandLine;
using System.Globalization;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Inspection;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary><c>truthdb dump</c>: every frame of a segment or of the whole directory, read-only.</summary>
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
        var command = new Command("dump", "List every frame of a segment or of the log: LSN, segment, offset, length, synced LSN and checksum status. Read-only: does not take the writer lock.")
        {
            directory, segment,
        };
        command.SetAction((parse, ct) => Verb.RunAsync(() => Task.FromResult(Run(parse.GetRequiredValue(directory), parse.GetValue(segment), ct))));
        return command;
    }

    private static int Run(string directory, string? segment, CancellationToken ct)
    {
        CommonOptions.RequireExistingLog(directory);
        var frames = LogInspector.Dump(directory, segment);
        var output = Console.Out;
        output.WriteLine($"{"lsn",12}  {"segment",-24}  {"offset",12}  {"length",10}  {"frame",10}  {"synced",12}  check");
        long total = 0, bad = 0;
        foreach (var frame in frames)
        {
            ct.ThrowIfCancellationRequested();
            total++;
            if (frame.Check != FrameCheck.Valid)
            {
                bad++;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{frame.Lsn,12}  {frame.Segment,-24}  {frame.Offset,12}  {frame.PayloadLength,10}  {frame.FrameLength,10}  {frame.SyncedLsn,12}  {Describe(frame.Check)}"));
        }

        output.WriteLine($"{total} frame(s): {total - bad} valid, {bad} not part of the readable log");
        return ExitCodes.Ok;
    }

    private static string Describe(FrameCheck check) => check switch
    {
        FrameCheck.Valid => "ok",
        FrameCheck.ChecksumMismatch => "BAD checksum",
        FrameCheck.Truncated => "BAD cut off",
        FrameCheck.OutOfSequence => "BAD out of sequence",
        FrameCheck.AfterDamage => "ok, after damage (unreachable)",
        _ => check.ToString(),
    };
}
