namespace TruthDb.Dataflow.Cli.Support;

/// <summary>The process exit codes of <c>truthdb</c> (documented in the README and in <c>--help</c>).</summary>
internal static class ExitCodes
{
    /// <summary>Success; for <c>verify</c>: the log is clean.</summary>
    public const int Ok = 0;

    /// <summary>The command could not do its work: a missing directory, an IO error, a log that refuses to open.</summary>
    public const int Failed = 1;

    /// <summary>Bad arguments (with a message saying which).</summary>
    public const int Usage = 2;

    /// <summary><c>verify</c>: only a torn or zero-filled tail, which opening the log truncates without losing a durable record.</summary>
    public const int TailDamage = 3;

    /// <summary><c>verify</c>: corruption that opening refuses, or that loses records.</summary>
    public const int Corruption = 4;

    /// <summary><c>replicate</c>, <c>restore</c>: the stream does not hold what the log says was shipped (a gap, a duplicate, a mismatch, another history of the log; <c>replicate --audit</c> lists them).</summary>
    public const int StreamMismatch = 5;
}
