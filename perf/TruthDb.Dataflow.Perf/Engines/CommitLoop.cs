using System.Diagnostics;

namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// The committer task of the FASTER-family logs' fastest durable set-up (FasterLog and TsavoriteLog
/// with <c>FastCommitMode</c>): it calls the log's <c>CommitAsync</c> back to back while anything is
/// uncommitted, and sleeps on a signal when the log is idle, so it does not spin a core. Producers
/// call <see cref="Signal"/> after each enqueue. Commits and their duration are counted (reported as
/// syncs: each commit ends with synchronous device writes, see perf/README.md).
/// </summary>
internal sealed class CommitLoop : IAsyncDisposable
{
    private readonly Func<bool> _idle;
    private readonly Func<CancellationToken, ValueTask> _commit;
    private readonly SemaphoreSlim _work = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _commits;
    private long _commitTicks;

    /// <param name="idle">True when everything enqueued is committed (<c>CommittedUntilAddress &gt;= TailAddress</c>).</param>
    /// <param name="commit">One commit of everything enqueued so far, completing when it is done.</param>
    public CommitLoop(Func<bool> idle, Func<CancellationToken, ValueTask> commit)
    {
        _idle = idle;
        _commit = commit;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The commits so far, as counters (no appends or batches: these logs do not count them).</summary>
    public EngineCounters Counters =>
        new(0, 0, Interlocked.Read(ref _commits), Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _commitTicks)));

    /// <summary>Wakes the committer if it sleeps; cheap when it is already awake.</summary>
    public void Signal()
    {
        if (_work.CurrentCount != 0)
        {
            return;
        }

        try
        {
            _work.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: the committer will pick this entry up.
        }
    }

    /// <summary>Stops the loop after a last commit of what is left, so every waiting producer completes.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _work.Dispose();
    }

    private async Task RunAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (_idle())
                {
                    await _work.WaitAsync(_stop.Token);
                    continue;
                }

                var started = Stopwatch.GetTimestamp();
                await _commit(_stop.Token);
                Interlocked.Add(ref _commitTicks, Stopwatch.GetTimestamp() - started);
                Interlocked.Increment(ref _commits);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await _commit(CancellationToken.None);
    }
}
