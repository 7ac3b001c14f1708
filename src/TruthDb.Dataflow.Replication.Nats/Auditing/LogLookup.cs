namespace TruthDb.Dataflow.Replication.Nats.Auditing;

/// <summary>How a stream message's payload compares with the log's record of the same LSN.</summary>
internal readonly record struct LogComparison(bool InLog, bool Equal, int LogLength, int FirstDifference);

/// <summary>
/// The log's records, read-only through a <see cref="WalReader"/> (no writer lock), looked up by LSN in
/// mostly increasing order: one sequential read, plus a separate read for an LSN behind it (a
/// duplicate or an LSN out of order in the stream).
/// </summary>
internal sealed class LogLookup : IAsyncDisposable
{
    private readonly WalReader _reader;
    private readonly long _written;
    private readonly CancellationToken _ct;
    private readonly IAsyncEnumerator<WalRecord> _records;
    private bool _hasCurrent;

    private LogLookup(WalReader reader, long written, CancellationToken ct)
    {
        _reader = reader;
        _written = written;
        _ct = ct;
        _records = reader.ReadAsync(0, Options, ct).GetAsyncEnumerator(ct);
    }

    /// <summary>The log's first record; <see cref="long.MaxValue"/> when it holds none.</summary>
    public long FirstLsn { get; private set; } = long.MaxValue;

    private static ReadOptions Options => new() { Watermark = WalWatermark.Written };

    public static async Task<LogLookup> OpenAsync(WalReader reader, long written, CancellationToken ct)
    {
        var lookup = new LogLookup(reader, written, ct);
        lookup._hasCurrent = await lookup._records.MoveNextAsync().ConfigureAwait(false);
        if (lookup._hasCurrent)
        {
            lookup.FirstLsn = lookup._records.Current.Lsn;
        }

        return lookup;
    }

    /// <summary>Compares <paramref name="data"/> with the log's record <paramref name="lsn"/> (which must be at least <see cref="FirstLsn"/>).</summary>
    public async ValueTask<LogComparison> CompareAsync(long lsn, ReadOnlyMemory<byte> data)
    {
        if (lsn < FirstLsn || lsn > _written)
        {
            return new LogComparison(false, false, 0, 0);
        }

        while (_hasCurrent && _records.Current.Lsn < lsn)
        {
            _hasCurrent = await _records.MoveNextAsync().ConfigureAwait(false);
        }

        if (_hasCurrent && _records.Current.Lsn == lsn)
        {
            return Compare(_records.Current.Payload.Span, data.Span);
        }

        await foreach (var record in _reader.ReadAsync(lsn, Options, _ct).ConfigureAwait(false))
        {
            return record.Lsn == lsn ? Compare(record.Payload.Span, data.Span) : new LogComparison(false, false, 0, 0);
        }

        return new LogComparison(false, false, 0, 0);
    }

    public ValueTask DisposeAsync() => _records.DisposeAsync();

    private static LogComparison Compare(ReadOnlySpan<byte> log, ReadOnlySpan<byte> data)
    {
        var common = log.CommonPrefixLength(data);
        var equal = common == log.Length && common == data.Length;
        return new LogComparison(true, equal, log.Length, common);
    }
}
