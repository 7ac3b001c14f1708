using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow;

/// <summary>
/// Options of a <see cref="Wal"/>. Settable properties, so they bind from
/// <c>Microsoft.Extensions.Configuration</c> (section <c>TruthDb:Wal</c>; the TruthDb.Dataflow.Hosting
/// package's binder also reads sizes such as <c>64MiB</c> and durations such as <c>250ms</c>, and
/// reports unknown keys). They are copied and
/// validated when the log opens (<see cref="Wal.OpenAsync"/>) and never read again afterwards;
/// a bad value is reported with the option's name, the value and the accepted range.
/// </summary>
public sealed class WalOptions
{
    /// <summary>Smallest <see cref="SegmentSize"/>: 64 KiB.</summary>
    public const long MinSegmentSize = 64 * 1024;

    /// <summary>Largest <see cref="SegmentSize"/>: 16 GiB.</summary>
    public const long MaxSegmentSize = 16L * 1024 * 1024 * 1024;

    /// <summary><see cref="SegmentSize"/> must be a multiple of this: 4 KiB.</summary>
    public const long SegmentSizeGranularity = 4096;

    /// <summary>The log directory; created if missing. Required.</summary>
    public string Directory { get; set; } = string.Empty;

    /// <summary>Bytes per segment file (preallocated); default 64 MiB. A record never straddles two segments.</summary>
    public long SegmentSize { get; set; } = 64L * 1024 * 1024;

    /// <summary>When an append is acknowledged; default <see cref="Durability.Sync"/>.</summary>
    public Durability Durability { get; set; } = Durability.Sync;

    /// <summary>Most records the writer takes in one batch; default 4096.</summary>
    public int MaxBatchRecords { get; set; } = 4096;

    /// <summary>Most bytes (framed) in one positional write; default 1 MiB.</summary>
    public long MaxBatchBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How long a batch may wait for more records once the writer is idle; default zero, so a lone
    /// append goes out at once. A small delay trades latency for bigger batches.
    /// </summary>
    public TimeSpan MaxBatchDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Most payload bytes accepted but not yet acknowledged; default 64 MiB. When reached,
    /// <see cref="Wal.AppendAsync"/> waits and <see cref="Wal.TryAppend"/> returns false.
    /// </summary>
    public long MaxPendingBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>With <see cref="Durability.Written"/>: how often the background sync runs; default 50 ms.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// False (the default): <see cref="Wal.TruncateBeforeAsync"/> never removes a record that a durable
    /// cursor has not committed yet. True: retention ignores cursors.
    /// </summary>
    public bool RetentionIgnoresCursors { get; set; }

    /// <summary>
    /// Retention by size: when a segment is sealed, the oldest sealed segments are dropped while the
    /// log's segments add up to more than this. 0 (the default) keeps everything. At least twice
    /// <see cref="SegmentSize"/> otherwise.
    /// </summary>
    public long RetentionMaxBytes { get; set; }

    /// <summary>
    /// Retention by age: when a segment is sealed, sealed segments whose newest record is older than
    /// this are dropped. Zero (the default) keeps everything; otherwise at least one second.
    /// </summary>
    public TimeSpan RetentionMaxAge { get; set; }

    /// <summary>
    /// The identity the log must have. Null (the default): a new log gets a random id, and any existing
    /// log opens. When set: a new log is created with this id, as a copy of the log that has it (a log
    /// rebuilt from a replicated stream keeps the source's id and LSNs, so it can go on as that log), and
    /// an existing log must have it, or opening refuses with an <see cref="IOException"/>.
    /// </summary>
    public Guid? LogId { get; set; }

    /// <summary>
    /// The LSN of a new log's first record (default 1): a copy of a log whose first records are gone
    /// (retention) starts where its source's records start. Ignored when the log exists.
    /// </summary>
    public long FirstLsn { get; set; } = 1;

    /// <summary>Where lifecycle events (open, recovery, faults) are logged; none by default.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>
    /// Where the log's <c>System.Diagnostics.Metrics</c> instruments are created: a meter named
    /// <c>TruthDb.Dataflow</c> from this factory (the generic host registers one; it scopes the
    /// instruments to that container). When null, a process-wide meter of that name is used. Either
    /// way every measurement carries the tag <c>truthdb.wal.directory</c>.
    /// </summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>The storage the log uses; the file system at <see cref="Directory"/> when null (tests set a simulated one).</summary>
    internal IWalStorage? Storage { get; set; }

    /// <summary>The clock for retention by age; the system clock when null (tests set a fake one).</summary>
    internal TimeProvider? TimeProvider { get; set; }

    /// <summary>A validated copy, or an <see cref="ArgumentException"/> naming the first bad option.</summary>
    internal WalOptions ValidatedCopy()
    {
        Validate();
        return (WalOptions)MemberwiseClone();
    }

    /// <summary>
    /// Checks every option as <see cref="Wal.OpenAsync"/> does, without opening anything.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The first bad option: the message names it, its value and the accepted range
    /// (<c>WalOptions.SegmentSize is 1,000 bytes; it must be ...</c>); <see cref="ArgumentException.ParamName"/> is the option's name.
    /// </exception>
    public void Validate()
    {
        if (Storage is null && string.IsNullOrWhiteSpace(Directory))
        {
            throw Bad(nameof(Directory), "(empty)", "a path to a directory (it is created if missing)");
        }

        Check(SegmentSize is >= MinSegmentSize and <= MaxSegmentSize && SegmentSize % SegmentSizeGranularity == 0,
            nameof(SegmentSize), Bytes(SegmentSize), $"a multiple of {SegmentSizeGranularity} bytes from {Bytes(MinSegmentSize)} to {Bytes(MaxSegmentSize)}");
        Check(Enum.IsDefined(Durability), nameof(Durability), Durability.ToString(), "Sync or Written");
        Check(MaxBatchRecords is >= 1 and <= 1_048_576, nameof(MaxBatchRecords), MaxBatchRecords.ToString(System.Globalization.CultureInfo.InvariantCulture), "1 to 1048576");
        Check(MaxBatchBytes is >= 4096 and <= 256L * 1024 * 1024, nameof(MaxBatchBytes), Bytes(MaxBatchBytes), "4096 bytes to 256 MiB");
        Check(MaxBatchDelay >= TimeSpan.Zero && MaxBatchDelay <= TimeSpan.FromSeconds(1), nameof(MaxBatchDelay), MaxBatchDelay.ToString(), "00:00:00 to 00:00:01");
        Check(MaxPendingBytes >= MaxBatchBytes && MaxPendingBytes <= 1L << 40,
            nameof(MaxPendingBytes), Bytes(MaxPendingBytes), $"MaxBatchBytes ({Bytes(MaxBatchBytes)}) to 1 TiB");
        Check(FlushInterval >= TimeSpan.FromMilliseconds(1) && FlushInterval <= TimeSpan.FromHours(1), nameof(FlushInterval), FlushInterval.ToString(), "1 ms to 1 hour");
        Check(RetentionMaxBytes == 0 || (RetentionMaxBytes >= 2 * SegmentSize && RetentionMaxBytes <= 1L << 50),
            nameof(RetentionMaxBytes), Bytes(RetentionMaxBytes), $"0 (keep everything) or from twice SegmentSize ({Bytes(2 * SegmentSize)}) to 1 PiB");
        Check(LogId != Guid.Empty, nameof(LogId), "00000000-0000-0000-0000-000000000000", "null (a new random id) or a non-empty id");
        Check(FirstLsn is >= 1 and <= long.MaxValue / 2, nameof(FirstLsn), FirstLsn.ToString(System.Globalization.CultureInfo.InvariantCulture), "1 to 4611686018427387903");
        Check(RetentionMaxAge == TimeSpan.Zero || (RetentionMaxAge >= TimeSpan.FromSeconds(1) && RetentionMaxAge <= TimeSpan.FromDays(36500)),
            nameof(RetentionMaxAge), RetentionMaxAge.ToString(), "00:00:00 (keep everything) or from 1 second to 100 years");
    }

    private static void Check(bool valid, string name, string value, string range)
    {
        if (!valid)
        {
            throw Bad(name, value, range);
        }
    }

    private static ArgumentException Bad(string name, string value, string range) =>
        new($"WalOptions.{name} is {value}; it must be {range}.", name);

    private static string Bytes(long value) => value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " bytes";
}
