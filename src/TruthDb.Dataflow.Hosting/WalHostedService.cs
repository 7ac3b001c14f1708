using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace TruthDb.Dataflow.Hosting;

/// <summary>
/// Owns the host's <see cref="Dataflow.Wal"/>: opens it when the host starts (or earlier, when it is
/// first resolved) and disposes it (drain, sync, close) when the host stops.
/// </summary>
/// <remarks>
/// The host resolves its hosted services before it starts any of them, so a hosted service that
/// takes <see cref="Dataflow.Wal"/> in its constructor resolves the log before
/// <see cref="StartingAsync"/> runs: the first resolution opens the log (blocking; recovery is
/// blocking file IO anyway). Otherwise <see cref="StartingAsync"/> opens it, before any hosted
/// service's <c>StartAsync</c>. Either way a log that cannot be opened (corruption, a second writer)
/// fails the host's start. Disposal happens in <see cref="StoppedAsync"/>, after every hosted
/// service's <c>StopAsync</c>, so they may append while they stop. It drains and syncs everything
/// accepted and is not cut short by the host's shutdown timeout: a write-ahead log does not drop
/// accepted work to stop sooner. The container disposes this service too (idempotent), so a
/// provider disposed without stopping the host still closes the log.
/// </remarks>
internal sealed class WalHostedService(IOptions<WalOptions> options) : IHostedLifecycleService, IAsyncDisposable, IDisposable
{
    private readonly Lock _gate = new();
    private Wal? _wal;

    /// <summary>The log, opened on first use.</summary>
    public Wal Wal
    {
        get
        {
            lock (_gate)
            {
                // Wal.OpenAsync runs recovery on the thread pool, so this wait cannot deadlock.
                return _wal ??= Wal.OpenAsync(options.Value).AsTask().GetAwaiter().GetResult();
            }
        }
    }

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _wal) is not null)
        {
            return;
        }

        var opened = await Wal.OpenAsync(options.Value, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (_wal is null)
            {
                _wal = opened;
                return;
            }
        }

        // Resolved meanwhile: cannot happen for the same directory (the writer lock refuses a
        // second open), but never leave an open log behind.
        await opened.DisposeAsync().ConfigureAwait(false);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    public async ValueTask DisposeAsync()
    {
        Wal? wal;
        lock (_gate)
        {
            wal = _wal;
        }

        if (wal is not null)
        {
            // Idempotent. The reference stays, so resolving Wal after stop gives the closed log
            // (appends fail with ObjectDisposedException) rather than reopening it.
            await wal.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
