using System.Collections.Concurrent;
using System.Diagnostics;

namespace TruthDb.Dataflow.Threading;

/// <summary>
/// A <see cref="TaskScheduler"/> that runs every task on one dedicated, named thread. The WAL's
/// write path runs here so that its IO never depends on (or starves) the thread pool, and so that
/// "which thread does the writing" is a fact a test can check.
/// </summary>
internal sealed class DedicatedThreadScheduler : TaskScheduler, IDisposable
{
    private readonly BlockingCollection<Task> _tasks = [];
    private readonly Thread _thread;

    /// <summary>Starts the thread, named <paramref name="threadName"/>.</summary>
    public DedicatedThreadScheduler(string threadName)
    {
        _thread = new Thread(Run) { Name = threadName, IsBackground = true };
        _thread.Start();
    }

    /// <summary>True on the dedicated thread (for the checks of code that must run there, and only there).</summary>
    public bool IsCurrentThread => Thread.CurrentThread == _thread;

    /// <inheritdoc />
    public override int MaximumConcurrencyLevel => 1;

    /// <summary>
    /// Stops taking tasks, runs the ones queued, and waits for the thread to end. Must not be called
    /// from the dedicated thread itself.
    /// </summary>
    public void Dispose()
    {
        Debug.Assert(!IsCurrentThread, "the dedicated thread cannot wait for itself to end");
        _tasks.CompleteAdding();
        _thread.Join();
        _tasks.Dispose();
    }

    /// <inheritdoc />
    protected override void QueueTask(Task task) => _tasks.Add(task);

    /// <inheritdoc />
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        IsCurrentThread && TryExecuteTask(task);

    /// <inheritdoc />
    protected override IEnumerable<Task> GetScheduledTasks() => _tasks.ToArray();

    private void Run()
    {
        foreach (var task in _tasks.GetConsumingEnumerable())
        {
            TryExecuteTask(task);
        }
    }
}
