namespace TruthDb.Dataflow.Hosting;

/// <summary>
/// The <c>TruthDb:Wal</c> configuration section holds an unknown key, a section where a value
/// belongs, or a value that does not parse. <see cref="Problems"/> has one line per problem, each
/// naming the key's full path and its value; the message lists them all.
/// </summary>
public sealed class WalConfigurationException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public WalConfigurationException()
        : this("The write-ahead log's configuration is invalid.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public WalConfigurationException(string message)
        : base(message)
    {
        Problems = [message];
    }

    /// <summary>Creates the exception with <paramref name="message"/> and the error that caused it.</summary>
    public WalConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Creates the exception for <paramref name="problems"/>, one line each.</summary>
    public WalConfigurationException(IReadOnlyList<string> problems)
        : base(Describe(problems))
    {
        Problems = problems;
    }

    /// <summary>Every problem found, one line each.</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Describe(IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        return problems.Count == 1
            ? $"Invalid configuration of the write-ahead log: {problems[0]}"
            : $"Invalid configuration of the write-ahead log ({problems.Count} problems):{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", problems)}";
    }
}
