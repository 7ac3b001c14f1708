using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace TruthDb.Dataflow.Hosting;

/// <summary>
/// Owns the host's <see cref="Dataflow.Wal"/>: opens it when the host starts and disposes it (drain,
/// sync, close) when the host stops.
/// </summary>
/// <remarks>
/// Opening happens in <see cref="StartingAsync"/>, which the host runs for every lifecycle service
/// before any hosted service's <c>StartAsync</c>, so other hosted services may append as they start;
/// a log that cannot be opened (corruption, a second writer) fails the host's start. Disposal happens
/// in <see cref="StoppedAsync"/>, after every hosted service's <c>StopAsync</c>, so they may append
/// while they stop. Disposal drains and syncs everything accepted and is not cut short by the
/// host's shutdown timeout: a write-ahead log does not drop acknowledged work to stop sooner.
/// </remarks>
internal sealed class WalHostedService(IOptions<WalOptions> options) : IHostedLifecycleService, IAsyncDisposable, IDisposable
{
    private Wal? _wal;

    /// <summary>The open log.</summary>
    /// <exception cref="InvalidOperationException">The host has not started (or the log was closed).</exception>
    public Wal Wal => Volatile.Read(ref _wal) ?? throw new InvalidOperationException(
        "The write-ahead log is opened when the host starts (AddTruthDbWal registers a hosted service that opens it at start and closes it at stop); resolve Wal from a started host.");

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        var wal = await Wal.OpenAsync(options.Value, cancellationToken).ConfigureAwait(false);
        if (Interlocked.CompareExchange(ref _wal, wal, null) is not null)
        {
            await wal.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException("The write-ahead log is already open.");
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _wal) is { } wal)
        {
            // Wal.DisposeAsync is idempotent; the reference stays so Wal keeps naming the (closed) log.
            await wal.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
