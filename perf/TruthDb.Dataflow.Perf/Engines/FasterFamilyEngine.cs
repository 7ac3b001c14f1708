namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// What FasterLog and TsavoriteLog (the same design, two libraries with the same API over unrelated
/// types) share as engines, so both are driven by exactly the same code: under
/// <see cref="Durability.Sync"/> an append is <c>EnqueueAndWaitForCommitAsync</c>, followed by a
/// signal to the committer task when the set-up has one (<see cref="StartCommitter"/>); under
/// <see cref="Durability.Written"/> it is <c>EnqueueAsync</c> (buffered: the entry is in the log's
/// memory). Closing lets the committer make its last commit, or commits once, then closes the log.
/// </summary>
internal abstract class FasterFamilyEngine(string name, bool sync) : IAppendEngine
{
    private CommitLoop? _committer;

    public string Name => name;

    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload)
    {
        if (!sync)
        {
            return EnqueueAsync(payload);
        }

        var committed = EnqueueAndWaitForCommitAsync(payload);
        _committer?.Signal();
        return committed;
    }

    public async ValueTask AppendBatchAsync(ReadOnlyMemory<byte>[] payloads)
    {
        var batch = new SpanBatch(payloads);
        if (!sync)
        {
            await EnqueueAsync(batch);
            return;
        }

        var committed = EnqueueAndWaitForCommitAsync(batch);
        _committer?.Signal();
        await committed;
    }

    // These logs do not count their writes; the committer counts its commits and their duration
    // (reported as syncs: each commit ends with synchronous device writes, see perf/README.md).
    public EngineCounters? ReadCounters() => _committer?.Counters;

    public async ValueTask DisposeAsync()
    {
        if (_committer is not null)
        {
            // Its last commit covers what is left, so every waiting producer completes.
            await _committer.DisposeAsync();
        }
        else
        {
            await CommitAsync();
        }

        Close();
    }

    /// <summary>Starts the committer task (<see cref="CommitLoop"/>) of a fast-commit set-up; call it once the log is open.</summary>
    protected void StartCommitter(Func<bool> idle, Func<CancellationToken, ValueTask> commit) => _committer = new CommitLoop(idle, commit);

    protected abstract ValueTask<long> EnqueueAsync(ReadOnlyMemory<byte> payload);

    protected abstract ValueTask<long> EnqueueAsync(SpanBatch batch);

    protected abstract ValueTask<long> EnqueueAndWaitForCommitAsync(ReadOnlyMemory<byte> payload);

    protected abstract ValueTask<long> EnqueueAndWaitForCommitAsync(SpanBatch batch);

    /// <summary>One commit of everything enqueued, completing when it is done.</summary>
    protected abstract ValueTask CommitAsync();

    /// <summary>Disposes the log and what was opened with it.</summary>
    protected abstract void Close();
}
