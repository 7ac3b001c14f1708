using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace TruthDb.Dataflow.Hosting;

/// <summary>
/// Binds <see cref="WalOptions"/> from <c>Microsoft.Extensions.Configuration</c> (section
/// <see cref="SectionName"/>), accepting friendly sizes (<c>64MiB</c>) and durations (<c>250ms</c>).
/// </summary>
/// <remarks>
/// An explicit binder rather than <c>ConfigurationBinder</c>: the stock binder reads
/// <see cref="TimeSpan"/> only from <c>hh:mm:ss</c> strings and ignores keys it does not know,
/// and a misspelt key in a database's configuration must not silently fall back to a default.
/// Every key of the section is read and parsed here; an unknown key, a section where a value
/// belongs, or a value that does not parse is reported (all of them at once) with the key's full
/// path and the value in a <see cref="WalConfigurationException"/>. Ranges are checked later, by
/// <see cref="WalOptions.Validate"/> (at open, or at host start).
/// </remarks>
public static partial class WalConfiguration
{
    /// <summary>The configuration section the options are read from: <c>TruthDb:Wal</c>.</summary>
    public const string SectionName = "TruthDb:Wal";

    private static readonly string[] KnownKeys =
    [
        nameof(WalOptions.Directory),
        nameof(WalOptions.SegmentSize),
        nameof(WalOptions.Durability),
        nameof(WalOptions.MaxBatchRecords),
        nameof(WalOptions.MaxBatchBytes),
        nameof(WalOptions.MaxBatchDelay),
        nameof(WalOptions.MaxPendingBytes),
        nameof(WalOptions.FlushInterval),
    ];

    /// <summary>The keys the section may hold, in the order the README lists them.</summary>
    public static IReadOnlyList<string> Keys => KnownKeys;

    /// <summary>
    /// New <see cref="WalOptions"/> with the defaults, overridden by what the section
    /// <see cref="SectionName"/> of <paramref name="configuration"/> sets.
    /// </summary>
    /// <exception cref="WalConfigurationException">An unknown key, or a value that does not parse.</exception>
    public static WalOptions Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new WalOptions();
        Bind(configuration.GetSection(SectionName), options);
        return options;
    }

    /// <summary>
    /// Sets the options that <paramref name="section"/> (the <c>TruthDb:Wal</c> section itself) names;
    /// the others keep their values. Keys are case-insensitive, as everywhere in configuration.
    /// </summary>
    /// <exception cref="WalConfigurationException">An unknown key, or a value that does not parse; nothing is set then.</exception>
    public static void Bind(IConfiguration section, WalOptions options)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        var parsed = new WalOptions();
        var seen = new List<string>();
        foreach (var child in section.GetChildren())
        {
            var key = Array.Find(KnownKeys, k => string.Equals(k, child.Key, StringComparison.OrdinalIgnoreCase));
            if (key is null)
            {
                problems.Add($"'{child.Path}' is not an option of the log; the keys of '{SectionName}' are {string.Join(", ", KnownKeys)}.");
                continue;
            }

            if (child.Value is null)
            {
                if (child.GetChildren().Any())
                {
                    problems.Add($"'{child.Path}' must be a single value, not a section.");
                }

                // A JSON null: not set.
                continue;
            }

            if (TrySet(parsed, key, child.Value, out var expected))
            {
                seen.Add(key);
            }
            else
            {
                problems.Add($"'{child.Path}' is '{child.Value}', which is not {expected}.");
            }
        }

        if (problems.Count > 0)
        {
            throw new WalConfigurationException(problems);
        }

        foreach (var key in seen)
        {
            Copy(parsed, options, key);
        }
    }

    private static bool TrySet(WalOptions options, string key, string value, out string expected)
    {
        switch (key)
        {
            case nameof(WalOptions.Directory):
                expected = "a directory path";
                options.Directory = value;
                return true;
            case nameof(WalOptions.Durability):
                expected = "a durability: Sync or Written";
                var name = Array.Find(Enum.GetNames<Durability>(), n => string.Equals(n, value.Trim(), StringComparison.OrdinalIgnoreCase));
                options.Durability = name is null ? default : Enum.Parse<Durability>(name);
                return name is not null;
            case nameof(WalOptions.MaxBatchRecords):
                expected = "a whole number of records (such as 4096)";
                var ok = int.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var records);
                options.MaxBatchRecords = records;
                return ok;
            case nameof(WalOptions.MaxBatchDelay) or nameof(WalOptions.FlushInterval):
                expected = DurationSyntax;
                if (!TryParseDuration(value, out var duration))
                {
                    return false;
                }

                if (key == nameof(WalOptions.MaxBatchDelay))
                {
                    options.MaxBatchDelay = duration;
                }
                else
                {
                    options.FlushInterval = duration;
                }

                return true;
            default:
                expected = SizeSyntax;
                if (!TryParseSize(value, out var size))
                {
                    return false;
                }

                if (key == nameof(WalOptions.SegmentSize))
                {
                    options.SegmentSize = size;
                }
                else if (key == nameof(WalOptions.MaxBatchBytes))
                {
                    options.MaxBatchBytes = size;
                }
                else
                {
                    options.MaxPendingBytes = size;
                }

                return true;
        }
    }

    private static void Copy(WalOptions from, WalOptions to, string key)
    {
        switch (key)
        {
            case nameof(WalOptions.Directory): to.Directory = from.Directory; break;
            case nameof(WalOptions.SegmentSize): to.SegmentSize = from.SegmentSize; break;
            case nameof(WalOptions.Durability): to.Durability = from.Durability; break;
            case nameof(WalOptions.MaxBatchRecords): to.MaxBatchRecords = from.MaxBatchRecords; break;
            case nameof(WalOptions.MaxBatchBytes): to.MaxBatchBytes = from.MaxBatchBytes; break;
            case nameof(WalOptions.MaxBatchDelay): to.MaxBatchDelay = from.MaxBatchDelay; break;
            case nameof(WalOptions.MaxPendingBytes): to.MaxPendingBytes = from.MaxPendingBytes; break;
            default: to.FlushInterval = from.FlushInterval; break;
        }
    }
}
