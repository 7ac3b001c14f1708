namespace TruthDb.Dataflow.Cli.Support;

/// <summary>
/// The engine's messages in the CLI's words: without .NET's <c>(Parameter 'x')</c> and
/// <c>Actual value was y.</c> suffixes, and with an option of <see cref="WalOptions"/> named by the
/// flag that set it.
/// </summary>
internal static class Messages
{
    // The WalOptions a verb sets from a flag, and that flag.
    private static readonly (string Option, string Flag)[] Flags =
    [
        (nameof(WalOptions.SegmentSize), "--segment-size"),
        (nameof(WalOptions.RetentionMaxBytes), "--retention-max-bytes"),
        (nameof(WalOptions.RetentionMaxAge), "--retention-max-age"),
        (nameof(WalOptions.RetentionIgnoresCursors), "--retention-ignores-cursors"),
        (nameof(WalOptions.Durability), "--durability"),
    ];

    // Engine phrases that name .NET API, and what the CLI says instead.
    private static readonly (string Engine, string Cli)[] Phrases =
    [
        (" (FirstLsn). Read from FirstLsn, or set ReadOptions.StartAtFirstAvailable.", ". Read from --from 0 (the first record still in the log) or from an LSN at or above it."),
        ("ReadOptions.StartAtFirstAvailable", "reading from the first record still in the log"),
        ("Only one writer may open a log at a time.", "Only one writer may open a log at a time; if 'truthdb serve' holds it, append, read, tail, stats and truncate reach the log through its --socket."),
        ("cannot be read: ChecksumMismatch", "cannot be read: its checksum does not match (the bytes are damaged)"),
        ("cannot be read: Truncated", "cannot be read: it is cut off"),
        ("cannot be read: NeedMoreData", "cannot be read: it is cut off"),
    ];

    /// <summary>
    /// The message of <paramref name="ex"/> in the CLI's words: without the parameter name and actual
    /// value .NET appends to an <see cref="ArgumentException"/>, with flags for options.
    /// </summary>
    public static string Of(Exception ex)
    {
        var message = ex.Message;
        if (ex is ArgumentException)
        {
            foreach (var marker in new[] { " (Parameter '", "\nActual value was", " Actual value was" })
            {
                var cut = message.IndexOf(marker, StringComparison.Ordinal);
                if (cut >= 0)
                {
                    message = message[..cut];
                }
            }
        }

        return InCliTerms(message.TrimEnd());
    }

    /// <summary><paramref name="message"/> with engine option and API names replaced by the CLI's flags and words.</summary>
    public static string InCliTerms(string message)
    {
        foreach (var (engine, cli) in Phrases)
        {
            message = message.Replace(engine, cli, StringComparison.Ordinal);
        }

        return Flagged(message);
    }

    // "WalOptions.SegmentSize is 1,000 bytes; it must be ... twice SegmentSize" names the flags instead;
    // "00:00:00 (keep everything)" becomes "0 (keep everything)", the duration grammar's zero.
    private static string Flagged(string message)
    {
        foreach (var (option, flag) in Flags)
        {
            message = message
                .Replace("WalOptions." + option, flag, StringComparison.Ordinal)
                .Replace("twice " + option, "twice " + flag, StringComparison.Ordinal);
        }

        return message.Replace("00:00:00 (keep everything)", "0 (keep everything)", StringComparison.Ordinal);
    }
}
