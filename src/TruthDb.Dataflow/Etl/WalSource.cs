using System.Threading.Tasks.Dataflow;

namespace TruthDb.Dataflow.Etl;

/// <summary>
/// Dataflow sources of records from a log: the writer's <see cref="Wal"/>, or a <see cref="WalReader"/> of a
/// log another process writes (a read replica that <c>truthdb restore --follow</c> keeps current, say).
/// </summary>
public static class WalSource
{
    /// <summary>
    /// A source block of the records from <paramref name="fromLsn"/> (copied, so they can travel
    /// through a pipeline), read like <see cref="IWalReader.ReadAsync"/> with <paramref name="options"/>.
    /// At most <paramref name="boundedCapacity"/> records wait in the block: a slow pipeline slows
    /// the reading, never the log's writer. The block completes when the read ends, faults when it
    /// fails, and stops reading when <paramref name="ct"/> is cancelled.
    /// </summary>
    public static ISourceBlock<WalEntry> FromLsn(IWalReader log, long fromLsn, ReadOptions? options = null, int boundedCapacity = 1024, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        return Start(log.ReadAsync(fromLsn, options, ct), boundedCapacity, ct);
    }

    /// <summary>
    /// A source block of the records after cursor <paramref name="cursor"/>'s committed LSN, like
    /// <see cref="IWalReader.ReadFromCursorAsync"/>. The consumer commits its progress with
    /// <see cref="IWalReader.CommitCursorAsync"/> (on a <see cref="WalReader"/> too: the writer's retention
    /// keeps what the cursor has not passed); a restarted job resumes after the last commit.
    /// </summary>
    public static ISourceBlock<WalEntry> FromCursor(IWalReader log, string cursor, ReadOptions? options = null, int boundedCapacity = 1024, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        return Start(log.ReadFromCursorAsync(cursor, options, ct), boundedCapacity, ct);
    }

    private static BufferBlock<WalEntry> Start(IAsyncEnumerable<WalRecord> records, int boundedCapacity, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(boundedCapacity, 1);
        var buffer = new BufferBlock<WalEntry>(new DataflowBlockOptions { BoundedCapacity = boundedCapacity });
        _ = PumpAsync(records, buffer, ct);
        return buffer;
    }

    private static async Task PumpAsync(IAsyncEnumerable<WalRecord> records, BufferBlock<WalEntry> buffer, CancellationToken ct)
    {
        try
        {
            await foreach (var record in records.ConfigureAwait(false))
            {
                if (!await buffer.SendAsync(new WalEntry(record.Lsn, record.ToArray()), ct).ConfigureAwait(false))
                {
                    return;
                }
            }

            buffer.Complete();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            buffer.Complete();
        }
        catch (Exception ex)
        {
            ((IDataflowBlock)buffer).Fault(ex);
        }
    }
}
