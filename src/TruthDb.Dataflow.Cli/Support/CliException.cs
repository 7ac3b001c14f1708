namespace TruthDb.Dataflow.Cli.Support;

/// <summary>A failure the command reports as one line on stderr, with exit code <see cref="ExitCodes.Failed"/> unless it says otherwise.</summary>
internal sealed class CliException : Exception
{
    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CliException(string message, int exitCode)
        : base(message) => ExitCode = exitCode;

    /// <summary>The exit code to return.</summary>
    public int ExitCode { get; } = ExitCodes.Failed;
}
