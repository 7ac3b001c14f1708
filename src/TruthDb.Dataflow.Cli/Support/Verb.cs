using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Ipc;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>Runs a verb's body and turns the failures a user can cause into a message and an exit code.</summary>
internal static class Verb
{
    /// <summary>Runs <paramref name="body"/>; known failures print one line on stderr.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (CliException ex)
        {
            Terminal.Error(ex.Message);
            return ex.ExitCode;
        }
        catch (Exception ex) when (ex is WalCorruptedException or InvalidDataException)
        {
            // Damage, or a tail a read-only reader cannot read past (InvalidDataException): verify
            // looks at the whole log and says which.
            Terminal.Error(Messages.Of(ex) + " Run 'truthdb verify' for details.");
            return ExitCodes.Failed;
        }
        catch (TruthDbException ex)
        {
            // The served log refused a request: the same words as the log opened from --dir says.
            Terminal.Error(Messages.InCliTerms(ex.Message) + Hint(ex.ErrorCode));
            return ExitCodes.Failed;
        }
        catch (TruthDbConnectionException ex)
        {
            Terminal.Error(ex.Message);
            return ExitCodes.Failed;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or WalFaultedException)
        {
            Terminal.Error(Messages.Of(ex));
            return ExitCodes.Failed;
        }
    }

    private static string Hint(TruthDbErrorCode code) => code switch
    {
        TruthDbErrorCode.Corrupted => " Run 'truthdb verify' for details.",
        TruthDbErrorCode.ReadOnly => " Its server was started with 'truthdb serve --read-only': write through the server of the log's writer, or to its --dir.",
        _ => string.Empty,
    };

    /// <summary>The words <c>verify</c> and <c>dump</c> print for a condition.</summary>
    public static string Describe(LogCondition condition) => condition switch
    {
        LogCondition.Clean => "clean",
        LogCondition.TornTail => "torn tail",
        LogCondition.ZeroFilledTail => "zero-filled tail",
        LogCondition.MidLogCorruption => "mid-log corruption",
        LogCondition.ForeignFrame => "frame from another log",
        LogCondition.OutOfSequence => "out of sequence",
        LogCondition.DamagedSegment => "damaged segment",
        LogCondition.DurableRecordDamaged => "durable record damaged",
        LogCondition.DamagedCursor => "damaged cursor",
        _ => condition.ToString(),
    };
}
