using System.Threading.Tasks.Dataflow;

namespace TruthDb.Dataflow.Etl;

/// <summary>
/// A Dataflow target that appends every message to a <see cref="Wal"/>, in the order received, with
/// backpressure: at most <c>boundedCapacity</c> messages wait to be appended and at most as many
/// appends wait for their acknowledgement, so <c>SendAsync</c> waits when the log falls behind.
/// <see cref="Completion"/> completes once every message is acknowledged under the log's durability,
/// and faults (and stops taking messages) when an append fails.
/// </summary>
/// <remarks>
/// Inside: a <c>TransformBlock</c> starts each append (one at a time, so LSNs follow message order)
/// and hands its pending acknowledgement to an <c>ActionBlock</c> that awaits them in order. Both
/// blocks are bounded, so many appends are in flight at once and one group commit covers them.
/// </remarks>
public sealed class WalTargetBlock : ITargetBlock<ReadOnlyMemory<byte>>
{
    private readonly TransformBlock<ReadOnlyMemory<byte>, Task<long>> _appends;
    private readonly ActionBlock<Task<long>> _acknowledgements;

    /// <summary>Creates the block.</summary>
    /// <param name="wal">The log to append to.</param>
    /// <param name="boundedCapacity">Most messages waiting to be appended, and most appends awaiting acknowledgement.</param>
    /// <param name="acknowledged">Called with each LSN once its record is acknowledged, in order (optional).</param>
    public WalTargetBlock(Wal wal, int boundedCapacity = 1024, Action<long>? acknowledged = null)
    {
        ArgumentNullException.ThrowIfNull(wal);
        ArgumentOutOfRangeException.ThrowIfLessThan(boundedCapacity, 1);
        _appends = new TransformBlock<ReadOnlyMemory<byte>, Task<long>>(
            payload => wal.AppendAsync(payload).AsTask(),
            new ExecutionDataflowBlockOptions { BoundedCapacity = boundedCapacity, MaxDegreeOfParallelism = 1, EnsureOrdered = true });
        _acknowledgements = new ActionBlock<Task<long>>(
            async pending =>
            {
                var lsn = await pending.ConfigureAwait(false);
                acknowledged?.Invoke(lsn);
            },
            new ExecutionDataflowBlockOptions { BoundedCapacity = boundedCapacity, MaxDegreeOfParallelism = 1 });
        _appends.LinkTo(_acknowledgements, new DataflowLinkOptions { PropagateCompletion = true });

        // A failed append faults the acknowledgements; stop taking messages too.
        _acknowledgements.Completion.ContinueWith(
            static (task, state) => ((IDataflowBlock)state!).Fault(task.Exception!.GetBaseException()),
            _appends,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <inheritdoc />
    public Task Completion => _acknowledgements.Completion;

    /// <inheritdoc />
    public void Complete() => _appends.Complete();

    /// <inheritdoc />
    void IDataflowBlock.Fault(Exception exception) => ((IDataflowBlock)_appends).Fault(exception);

    /// <inheritdoc />
    DataflowMessageStatus ITargetBlock<ReadOnlyMemory<byte>>.OfferMessage(
        DataflowMessageHeader messageHeader, ReadOnlyMemory<byte> messageValue, ISourceBlock<ReadOnlyMemory<byte>>? source, bool consumeToAccept) =>
        ((ITargetBlock<ReadOnlyMemory<byte>>)_appends).OfferMessage(messageHeader, messageValue, source, consumeToAccept);
}
