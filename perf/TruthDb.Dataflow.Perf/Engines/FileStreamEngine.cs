using System.Diagnostics;
using System.Threading.Channels;

namespace TruthDb.Dataflow.Perf.Engines;

/// <summary>
/// The baseline a .NET developer would write by hand: producers post (payload, completion) into an
/// unbounded <see cref="Channel{T}"/>; one dedicated writer thread drains what is there (up to
/// <see cref="MaxGroupRecords"/>), writes the group through a <see cref="FileStream"/> appending at
/// the end of one file, then <c>Flush(true)</c> (fsync) for <see cref="Durability.Sync"/> or
/// <c>Flush(false)</c> (write to the OS, no sync) for <see cref="Durability.Written"/>, then completes
/// the group's waiters (continuations run asynchronously, off the writer thread). No framing, no
/// checksums, no preallocation: every sync also persists the file's growth.
/// </summary>
internal sealed class FileStreamEngine : IAppendEngine
{
    public const string EngineName = "filestream";

    // The same bounds as the engine's defaults (WalOptions.MaxBatchRecords, MaxBatchBytes).
    private const int MaxGroupRecords = 4096;
    private const int MaxGroupBytes = 1024 * 1024;

    private readonly Channel<Request> _queue = Channel.CreateUnbounded<Request>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly FileStream _file;
    private readonly bool _sync;
    private readonly Thread _writer;
    private long _appends;
    private long _batches;
    private long _syncs;
    private long _syncTicks;

    private FileStreamEngine(FileStream file, bool sync)
    {
        _file = file;
        _sync = sync;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "filestream.writer" };
        _writer.Start();
    }

    public string Name => EngineName;

    public static FileStreamEngine Open(EngineSettings settings)
    {
        Directory.CreateDirectory(settings.Directory);
        var file = new FileStream(
            Path.Combine(settings.Directory, "log.bin"),
            new FileStreamOptions
            {
                Mode = FileMode.Append,
                Access = FileAccess.Write,
                Share = FileShare.Read,
                BufferSize = MaxGroupBytes,
            });
        return new FileStreamEngine(file, settings.Durability == Durability.Sync);
    }

    public ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload)
    {
        var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(new Request(payload, done)), this);

        return new ValueTask<long>(done.Task);
    }

    // No batch API: the records go into the queue one by one (they may land in different groups);
    // the call completes when the last one is acknowledged, which is after all of them (groups
    // complete in order).
    public async ValueTask AppendBatchAsync(ReadOnlyMemory<byte>[] payloads)
    {
        var last = default(ValueTask<long>);
        foreach (var payload in payloads)
        {
            last = AppendAsync(payload);
        }

        await last;
    }

    public EngineCounters? ReadCounters() => new EngineCounters(
        Interlocked.Read(ref _appends),
        Interlocked.Read(ref _batches),
        Interlocked.Read(ref _syncs),
        Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _syncTicks)));

    public ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        _writer.Join();
        _file.Dispose();
        return ValueTask.CompletedTask;
    }

    private void WriteLoop()
    {
        var reader = _queue.Reader;
        var group = new List<Request>(MaxGroupRecords);
        Exception? fault = null;
        while (WaitToRead(reader))
        {
            group.Clear();
            var bytes = 0;
            while (group.Count < MaxGroupRecords && bytes < MaxGroupBytes && reader.TryRead(out var request))
            {
                group.Add(request);
                bytes += request.Payload.Length;
            }

            if (fault is null)
            {
                try
                {
                    WriteGroup(group);
                }
                catch (IOException ex)
                {
                    fault = ex;
                }
            }

            var end = _file.Position;
            for (var i = group.Count - 1; i >= 0; i--)
            {
                if (fault is null)
                {
                    group[i].Done.SetResult(end);
                    end -= group[i].Payload.Length;
                }
                else
                {
                    group[i].Done.SetException(fault);
                }
            }
        }
    }

    private void WriteGroup(List<Request> group)
    {
        foreach (var request in group)
        {
            _file.Write(request.Payload.Span);
        }

        if (_sync)
        {
            var started = Stopwatch.GetTimestamp();
            _file.Flush(flushToDisk: true);
            Interlocked.Add(ref _syncTicks, Stopwatch.GetTimestamp() - started);
            Interlocked.Increment(ref _syncs);
        }
        else
        {
            _file.Flush(flushToDisk: false);
        }

        Interlocked.Add(ref _appends, group.Count);
        Interlocked.Increment(ref _batches);
    }

    // The writer thread is dedicated: blocking here is the point.
    private static bool WaitToRead(ChannelReader<Request> reader)
    {
        var wait = reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    private readonly record struct Request(ReadOnlyMemory<byte> Payload, TaskCompletionSource<long> Done);
}
