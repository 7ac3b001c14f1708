using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Inspection;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary><c>truthdb verify</c>: checks every segment and frame, read-only, and classifies what it finds.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var directory = CommonOptions.Directory();
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object (the shape is in the README) instead of text; the exit code is the same.",
        };
        var command = new Command("verify",
            "Check every segment header, seal trailer and frame, read-only (no writer lock), and classify what is found: clean, torn tail, zero-filled tail, "
            + "mid-log corruption, durable record damaged, frame from another log, out of sequence, damaged segment; say which LSNs persisted evidence proves durable, and by what. "
            + "Exit code 0 when clean, 3 when only a tail that no evidence proves durable is damaged (opening the log truncates it), 4 for damage to anything proven durable or other corruption ('truthdb repair' cuts it).")
        {
            directory,
            json,
        };
        command.SetAction((parse, ct) => Verb.RunAsync(() => Task.FromResult(Run(parse.GetRequiredValue(directory), parse.GetValue(json)))));
        return command;
    }

    private static int Run(string directory, bool json)
    {
        CommonOptions.RequireExistingLog(directory);
        var report = LogInspector.Verify(directory);
        var exitCode = report.IsClean ? ExitCodes.Ok : report.IsRecoverable ? ExitCodes.TailDamage : ExitCodes.Corruption;
        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            JsonOutput.WriteLine(stdout, w => WriteJson(w, report, exitCode));
            return exitCode;
        }

        var console = Terminal.Console;
        var table = new Table().Title("Segments").Border(Terminal.Interactive ? TableBorder.Rounded : TableBorder.Ascii);
        table.AddColumns("segment", "first LSN", "last LSN", "records", "sealed", "status");
        foreach (var segment in report.Segments)
        {
            var problems = 0;
            LogCondition worst = LogCondition.Clean;
            foreach (var finding in report.Findings)
            {
                if (finding.Segment == segment.Name)
                {
                    worst = problems++ == 0 ? finding.Condition : worst;
                }
            }

            table.AddRow(
                segment.Name,
                segment.FirstLsn.ToString(Show.Invariant),
                segment.LastLsn.ToString(Show.Invariant),
                segment.Records.ToString(Show.Invariant),
                segment.IsSealed ? "yes" : "no",
                Markup.Escape(Verb.Describe(worst)));
        }

        console.Write(table);
        foreach (var finding in report.Findings)
        {
            Console.WriteLine(finding.Condition == LogCondition.DamagedCursor
                ? $"{Verb.Describe(finding.Condition)}: file {finding.Segment}: {finding.Message}"
                : string.Create(Show.Invariant, $"{Verb.Describe(finding.Condition)}: segment {finding.Segment}, offset {finding.Offset}{(finding.Lsn > 0 ? $", LSN {finding.Lsn}" : string.Empty)}: {finding.Message}"));
        }

        Console.WriteLine(Durability(report));
        if (report.PendingRepair is { } intent)
        {
            Console.WriteLine($"repair: a repair was cut short by a crash ({intent}); the next open or 'truthdb repair --dir {directory} --yes' completes it");
        }

        if (report.IsClean)
        {
            Console.WriteLine($"verify: clean ({report.Segments.Count} segment(s), {report.Records} record(s))");
            return ExitCodes.Ok;
        }

        Console.WriteLine(report.IsRecoverable
            ? $"verify: {Verb.Describe(report.Condition)}: {report.Findings.Count} problem(s), {report.Records} valid record(s); opening the log truncates the damaged tail (no record that evidence proves durable is lost)"
            : $"verify: {Verb.Describe(report.Condition)}: {report.Findings.Count} problem(s), {report.Records} valid record(s); the log is corrupted: opening refuses; 'truthdb repair --dir {directory}' shows how it would repair it");
        return exitCode;
    }

    private static void WriteJson(Utf8JsonWriter json, VerifyReport report, int exitCode)
    {
        json.WriteString("directory", report.Directory);
        json.WriteString("condition", Verb.Describe(report.Condition));
        json.WriteBoolean("clean", report.IsClean);
        json.WriteBoolean("recoverable", report.IsClean || report.IsRecoverable);
        json.WriteNumber("exitCode", exitCode);
        json.WriteNumber("records", report.Records);
        json.WriteNumber("provenDurableLsn", report.ProvenDurableLsn);
        json.WriteString("provenDurableBy", report.ProvenDurableBy);
        json.WriteStringOrNull("pendingRepair", report.PendingRepair);
        json.WriteStartArray("findings");
        foreach (var finding in report.Findings)
        {
            json.WriteStartObject();
            json.WriteString("condition", Verb.Describe(finding.Condition));
            if (finding.Condition == LogCondition.DamagedCursor)
            {
                json.WriteString("file", finding.Segment);
            }
            else
            {
                json.WriteString("segment", finding.Segment);
                json.WriteNumber("offset", finding.Offset);
                if (finding.Lsn > 0)
                {
                    json.WriteNumber("lsn", finding.Lsn);
                }
                else
                {
                    json.WriteNull("lsn");
                }
            }

            json.WriteBoolean("recoverable", finding.Recoverable);
            json.WriteString("message", finding.Message);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteSegments(report.Segments);
    }

    // Exactly what the files prove about durability, and from which evidence.
    private static string Durability(VerifyReport report)
    {
        if (report.ProvenDurableLsn <= 0)
        {
            return "durability: no persisted evidence proves any LSN durable (no clean-close note or watermark mirror of this log, no seal trailer, no synced-LSN field)";
        }

        var first = report.Segments.Count > 0 ? Math.Min(report.Segments[0].FirstLsn, report.ProvenDurableLsn) : 1;
        return string.Create(Show.Invariant, $"durability: LSNs {first} to {report.ProvenDurableLsn} proven durable by {report.ProvenDurableBy}");
    }
}
