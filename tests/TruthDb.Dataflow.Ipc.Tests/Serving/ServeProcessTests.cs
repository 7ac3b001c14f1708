using System.Collections.Concurrent;
using System.Text;
using TruthDb.Dataflow.Ipc.Tests.Support;

namespace TruthDb.Dataflow.Ipc.Tests.Serving;

/// <summary>The real server: <c>truthdb serve</c> as a child process.</summary>
public sealed class ServeProcessTests : IDisposable
{
    private readonly TestLog _log = new();

    public void Dispose() => _log.Dispose();

    private string[] ServeArgs(params string[] more) => ["--dir", _log.Dir, "--socket", _log.Socket, "--segment-size", "1MiB", .. more];

    [Fact]
    public async Task SixteenAppendersFourTailers_EveryRecordExactlyOnceInOrder()
    {
        const int Appenders = 16;
        const int PerAppender = 400;
        const int Total = Appenders * PerAppender;
        await using var server = await ServeProcess.StartServingAsync(ServeArgs());

        var tailers = new Task<List<(long Lsn, string Text)>>[4];
        var tailing = new CountdownEvent(tailers.Length);
        for (var t = 0; t < tailers.Length; t++)
        {
            tailers[t] = Task.Run(async () =>
            {
                await using var client = await TruthDbClient.ConnectAsync(_log.Socket, null, Timeouts.Token());
                var seen = new List<(long, string)>();
                var records = client.ReadAsync(0, new ReadOptions { Follow = true }, Timeouts.Token()).GetAsyncEnumerator();
                var first = records.MoveNextAsync();
                tailing.Signal();
                if (await first)
                {
                    do
                    {
                        seen.Add((records.Current.Lsn, Encoding.UTF8.GetString(records.Current.Payload.Span)));
                    }
                    while (seen.Count < Total && await records.MoveNextAsync());
                }

                await records.DisposeAsync();
                return seen;
            });
        }

        Assert.True(tailing.Wait(TimeSpan.FromMinutes(1)));
        var acknowledged = new ConcurrentDictionary<long, string>();
        var appenders = Enumerable.Range(0, Appenders).Select(a => Task.Run(async () =>
        {
            await using var client = await TruthDbClient.ConnectAsync(_log.Socket, null, Timeouts.Token());
            var window = new Queue<(Task<long> Lsn, string Text)>();
            long last = 0;
            for (var i = 0; i < PerAppender; i++)
            {
                var text = $"a{a:D2}-{i:D5}";
                window.Enqueue((client.AppendAsync(Encoding.UTF8.GetBytes(text)).AsTask(), text));
                if (window.Count >= 32 || i == PerAppender - 1)
                {
                    while (window.Count > 0)
                    {
                        var (lsn, acked) = window.Dequeue();
                        var value = await lsn;
                        Assert.True(value > last, "one client's appends get increasing LSNs");
                        last = value;
                        Assert.True(acknowledged.TryAdd(value, acked), $"LSN {value} acknowledged twice");
                    }
                }
            }
        })).ToArray();
        await Task.WhenAll(appenders).WaitAsync(Timeouts.Token());
        Assert.Equal(Total, acknowledged.Count);

        foreach (var tailer in tailers)
        {
            var seen = await tailer.WaitAsync(Timeouts.Token());
            Assert.Equal(Total, seen.Count);
            Assert.Equal(Enumerable.Range(1, Total).Select(i => (long)i), seen.Select(s => s.Lsn));
            foreach (var (lsn, text) in seen)
            {
                Assert.Equal(acknowledged[lsn], text);
            }

            // Each appender's records come in the order it appended them.
            foreach (var group in seen.GroupBy(s => s.Text[..3]))
            {
                Assert.Equal(group.Select(g => g.Text).Order(StringComparer.Ordinal), group.Select(g => g.Text));
            }
        }

        await server.SignalAsync("TERM");
        Assert.Equal(0, await server.WaitForExitAsync());
        _log.AssertClean();
    }

    [Fact]
    public async Task Sigkill_MidLoad_EveryAcknowledgedAppendIsInTheLogAfterReopen()
    {
        var server = await ServeProcess.StartServingAsync(ServeArgs());
        var acknowledged = new ConcurrentDictionary<long, byte[]>();
        var unknown = 0;
        var enough = new TaskCompletionSource();
        await using var client = await TruthDbClient.ConnectAsync(_log.Socket, null, Timeouts.Token());
        var load = Task.Run(async () =>
        {
            var inFlight = new List<Task>();
            for (var i = 0; ; i++)
            {
                var payload = Encoding.UTF8.GetBytes($"record-{i:D7}-" + new string('x', i % 200));
                Task<long> append;
                try
                {
                    append = client.AppendAsync(payload).AsTask();
                }
                catch (TruthDbConnectionException)
                {
                    break;
                }

                inFlight.Add(TrackAsync(append, payload));
                if (inFlight.Count >= 64)
                {
                    await Task.WhenAny(inFlight);
                    inFlight.RemoveAll(t => t.IsCompleted);
                }

                if (acknowledged.Count >= 3000)
                {
                    enough.TrySetResult();
                }

                if (client.Completion.IsCompleted)
                {
                    break;
                }
            }

            await Task.WhenAll(inFlight);
        });

        async Task TrackAsync(Task<long> append, byte[] payload)
        {
            try
            {
                acknowledged[await append] = payload;
            }
            catch (TruthDbAppendOutcomeUnknownException)
            {
                Interlocked.Increment(ref unknown);
            }
            catch (TruthDbConnectionException)
            {
                // Not sent: not in the log, and never claimed to be.
            }
        }

        await enough.Task.WaitAsync(Timeouts.Token());
        server.Process.Kill();
        await server.WaitForExitAsync();
        await load.WaitAsync(Timeouts.Token());
        await server.DisposeAsync();

        await using var wal = await Wal.OpenAsync(_log.Options());
        var inLog = new Dictionary<long, byte[]>();
        await foreach (var record in wal.ReadAsync(0, ct: Timeouts.Token()))
        {
            inLog[record.Lsn] = record.ToArray();
        }

        Assert.True(acknowledged.Count >= 3000);
        foreach (var (lsn, payload) in acknowledged)
        {
            Assert.True(inLog.TryGetValue(lsn, out var stored), $"acknowledged LSN {lsn} is missing after the crash");
            Assert.Equal(payload, stored);
        }
    }

    [Fact]
    public async Task Sigterm_WithClients_StopsGracefullyAndTheLogIsClean()
    {
        await using var server = await ServeProcess.StartServingAsync(ServeArgs("--durability", "written"));
        await using var client = await TruthDbClient.ConnectAsync(_log.Socket, null, Timeouts.Token());
        for (var i = 0; i < 100; i++)
        {
            await client.AppendAsync(Encoding.UTF8.GetBytes("r" + i));
        }

        var tailing = new TaskCompletionSource();
        var tail = Task.Run(async () =>
        {
            var n = 0;
            await foreach (var record in client.ReadAsync(1, new ReadOptions { Follow = true, Watermark = WalWatermark.Written }, Timeouts.Token()))
            {
                if (++n == 100)
                {
                    tailing.SetResult();
                }
            }

            return n;
        });
        await tailing.Task.WaitAsync(Timeouts.Token());
        await server.SignalAsync("TERM");
        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.Contains("stopped; the log is synced and closed at LSN 100", server.Stderr);
        Assert.Equal(100, await tail.WaitAsync(Timeouts.Token()));
        Assert.False(File.Exists(_log.Socket));
        _log.AssertClean();
    }

    [Fact]
    public async Task Stdio_ParentHostsServerAsChild_ServesOneConnection()
    {
        await using var server = await ServeProcess.StartServingAsync(["--dir", _log.Dir, "--stdio"]);
        var client = await TruthDbClient.ConnectStreamAsync(server.StdioStream(), new TruthDbClientOptions { ClientName = "parent" }, Timeouts.Token());
        Assert.Equal(1, await client.AppendAsync(Encoding.UTF8.GetBytes("over stdio")));
        var read = new List<string>();
        await foreach (var record in client.ReadAsync(0, ct: Timeouts.Token()))
        {
            read.Add(Encoding.UTF8.GetString(record.Payload.Span));
        }

        Assert.Equal(["over stdio"], read);

        // Closing our end (stdin) stops the child.
        await client.DisposeAsync();
        Assert.Equal(0, await server.WaitForExitAsync());
        _log.AssertClean();
    }

    [Fact]
    public async Task Serve_TokenFromEnvironment_RequiredByTheServer()
    {
        await using var server = await ServeProcess.StartServingAsync(ServeArgs(), new Dictionary<string, string> { ["TRUTHDB_TOKEN"] = "t0ken" });
        Assert.Contains("token required", server.Stderr);
        var refused = await Assert.ThrowsAsync<TruthDbException>(() => TruthDbClient.ConnectAsync(_log.Socket, null, Timeouts.Token()));
        Assert.Equal(TruthDbErrorCode.Unauthorized, refused.ErrorCode);
        await using var client = await TruthDbClient.ConnectAsync(_log.Socket, new TruthDbClientOptions { Token = "t0ken" }, Timeouts.Token());
        Assert.Equal(1, await client.AppendAsync(new byte[] { 1 }));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_log.Socket));
        }
    }

    [Fact]
    public async Task Serve_SmallSegments_ConcurrentAppendsJoinedIntoMessagesThatFitASegment()
    {
        // 1 MiB segments (ServeArgs): the server offers messages of at most half a segment, so the
        // client never joins more appends into one message than one segment holds.
        await using var server = await ServeProcess.StartServingAsync(ServeArgs());
        await using var client = await TruthDbClient.ConnectAsync(_log.Socket, null, Timeouts.Token());
        Assert.Equal(512 * 1024, client.MaxMessageSize);

        var appends = Enumerable.Range(0, 200).Select(i => client.AppendAsync(new byte[8 * 1024]).AsTask()).ToArray();
        var lsns = await Task.WhenAll(appends).WaitAsync(Timeouts.Token());
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), lsns.Order());
    }

    [Theory]
    [InlineData("--dir", "D")]
    [InlineData("--dir", "D", "--socket", "S", "--token-file", "/nonexistent/token")]
    [InlineData("--dir", "D", "--socket", "S", "--socket-mode", "9x")]
    [InlineData("--dir", "D", "--socket", "S", "--segment-size", "1MiB", "--max-message-size", "1MiB")]
    [InlineData("--dir", "D", "--socket", "S", "--segment-size", "64KiB")]
    public async Task Serve_BadArguments_ExitTwoWithMessage(params string[] args)
    {
        var resolved = args.Select(a => a == "D" ? _log.Dir : a == "S" ? _log.Socket : a);
        await using var process = ServeProcess.Start(["serve", .. resolved]);
        process.Process.StandardInput.Close();
        Assert.Equal(2, await process.WaitForExitAsync());
        Assert.Contains("truthdb", process.Stderr);
    }
}
