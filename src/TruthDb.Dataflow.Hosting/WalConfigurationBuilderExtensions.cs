using Microsoft.Extensions.Configuration;

namespace TruthDb.Dataflow.Hosting;

/// <summary>The configuration sources of a stand-alone TruthDb program, in the usual precedence.</summary>
public static class WalConfigurationBuilderExtensions
{
    /// <summary>The prefix of the environment variables read: <c>TRUTHDB_</c>.</summary>
    public const string EnvironmentPrefix = "TRUTHDB_";

    /// <summary>
    /// Command-line switches that stand for the keys of <see cref="WalConfiguration.SectionName"/>:
    /// <c>--directory</c>, <c>--segment-size</c>, <c>--durability</c>, <c>--max-batch-records</c>,
    /// <c>--max-batch-bytes</c>, <c>--max-batch-delay</c>, <c>--max-pending-bytes</c>, <c>--flush-interval</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["--directory"] = WalConfiguration.SectionName + ":Directory",
        ["--segment-size"] = WalConfiguration.SectionName + ":SegmentSize",
        ["--durability"] = WalConfiguration.SectionName + ":Durability",
        ["--max-batch-records"] = WalConfiguration.SectionName + ":MaxBatchRecords",
        ["--max-batch-bytes"] = WalConfiguration.SectionName + ":MaxBatchBytes",
        ["--max-batch-delay"] = WalConfiguration.SectionName + ":MaxBatchDelay",
        ["--max-pending-bytes"] = WalConfiguration.SectionName + ":MaxPendingBytes",
        ["--flush-interval"] = WalConfiguration.SectionName + ":FlushInterval",
    };

    /// <summary>
    /// Adds, lowest precedence first: the JSON file <paramref name="jsonFile"/> (optional; a relative
    /// path is taken from the current directory; null skips it), the environment variables that start
    /// with <see cref="EnvironmentPrefix"/> (prefix removed, <c>__</c> for <c>:</c>, so
    /// <c>TRUTHDB_TruthDb__Wal__SegmentSize=1GiB</c> sets <c>TruthDb:Wal:SegmentSize</c>), and the
    /// command-line <paramref name="args"/> (<c>--TruthDb:Wal:SegmentSize=1GiB</c>, or the short forms
    /// of <see cref="SwitchMappings"/>: <c>--segment-size 1GiB</c>). A later source overrides an earlier one.
    /// </summary>
    public static IConfigurationBuilder AddTruthDbConfiguration(this IConfigurationBuilder builder, string[]? args, string? jsonFile = "appsettings.json")
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (jsonFile is not null)
        {
            builder.AddJsonFile(Path.GetFullPath(jsonFile), optional: true, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix);
        if (args is not null)
        {
            builder.AddCommandLine(args, new Dictionary<string, string>(SwitchMappings, StringComparer.OrdinalIgnoreCase));
        }

        return builder;
    }
}
