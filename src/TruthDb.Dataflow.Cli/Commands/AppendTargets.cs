using System.Globalization;
using TruthDb.Dataflow.Cli.Support;
using TruthDb.Dataflow.Ipc;

namespace TruthDb.Dataflow.Cli.Commands;

/// <summary>Where <c>append</c> sends records: a log it opens, or a served log.</summary>
internal interface IAppendTarget : IAsyncDisposable
{
    /// <summary>Hands one record over; the task completes with its LSN once acknowledged. Never cancelled: once handed over, a record's outcome is awaited.</summary>
    Task<long> AppendAsync(byte[] record);

    /// <summary>
    /// Closes (for a log this process opened: syncs and closes it) and says what is true of the
    /// records acknowledged up to <paramref name="lastLsn"/>: "durable", or why not proven so.
    /// </summary>
    Task<string> CloseAsync(long lastLsn);
}

/// <summary>A log opened from <c>--dir</c>: closing it syncs what was written (also with <c>--durability written</c>).</summary>
internal sealed class DirectoryAppendTarget(Wal wal) : IAppendTarget
{
    public Task<long> AppendAsync(byte[] record) => wal.AppendAsync(record, CancellationToken.None).AsTask();

    public async Task<string> CloseAsync(long lastLsn)
    {
        try
        {
            await wal.DisposeAsync();
        }
        catch (Exception ex) when (ex is IOException or WalFaultedException or UnauthorizedAccessException)
        {
            return "written; NOT proven durable: closing the log failed: " + Messages.Of(ex);
        }

        return wal.DurableLsn >= lastLsn
            ? "durable"
            : string.Create(CultureInfo.InvariantCulture, $"written; durable only up to LSN {wal.DurableLsn}");
    }

    public ValueTask DisposeAsync() => wal.DisposeAsync();
}

/// <summary>A served log (<c>--socket</c>): with <c>--durability sync</c> each acknowledgement means durable; with <c>written</c> the server's durable LSN says.</summary>
internal sealed class ServedAppendTarget(TruthDbClient client, bool durableAppends) : IAppendTarget
{
    public Task<long> AppendAsync(byte[] record) => client.AppendAsync(record, CancellationToken.None).AsTask();

    public async Task<string> CloseAsync(long lastLsn)
    {
        if (durableAppends)
        {
            return "durable";
        }

        try
        {
            var stats = await client.GetStatisticsAsync(CancellationToken.None);
            return stats.DurableLsn >= lastLsn
                ? "durable"
                : string.Create(CultureInfo.InvariantCulture, $"written; the server's log is durable up to LSN {stats.DurableLsn} and syncs the rest in the background or when it stops");
        }
        catch (Exception ex) when (ex is TruthDbException or TruthDbConnectionException)
        {
            return "written; not known to be durable: asking the server failed: " + ex.Message;
        }
    }

    public ValueTask DisposeAsync() => client.DisposeAsync();
}
