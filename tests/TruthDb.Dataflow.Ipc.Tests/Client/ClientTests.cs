using System.Text;
using TruthDb.Dataflow.Ipc.Tests.Support;

namespace TruthDb.Dataflow.Ipc.Tests.Client;

public sealed class ClientTests : IAsyncLifetime
{
    private InProcessServer _server = null!;

    public async Task InitializeAsync() => _server = await InProcessServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task ConnectAsync_ToServer_ReportsLogId()
    {
        await using var client = await _server.ConnectAsync();
        Assert.Equal(_server.Wal.LogId, client.LogId);
        Assert.True(await client.PingAsync(Timeouts.Token()) > TimeSpan.Zero);
    }

    [Fact]
    public async Task AppendAsync_ThenReadAsync_ReturnsRecordsInOrder()
    {
        await using var client = await _server.ConnectAsync();
        Assert.Equal(1, await client.AppendAsync(Text("a")));
        Assert.Equal(2, await client.AppendAsync(Text("bc")));
        var records = new List<(long, string)>();
        await foreach (var record in client.ReadAsync(0, ct: Timeouts.Token()))
        {
            records.Add((record.Lsn, Encoding.UTF8.GetString(record.Payload.Span)));
        }

        Assert.Equal([(1, "a"), (2, "bc")], records);
        Assert.Equal(2, _server.Wal.DurableLsn);
    }

    [Fact]
    public async Task AppendAsync_ManyInFlight_CallOrderLsnsAndFewerWireMessages()
    {
        await using var client = await _server.ConnectAsync();
        var pending = new Task<long>[2000];
        for (var i = 0; i < pending.Length; i++)
        {
            pending[i] = client.AppendAsync(Text("r" + i)).AsTask();
        }

        var lsns = await Task.WhenAll(pending);
        Assert.Equal(Enumerable.Range(1, pending.Length).Select(i => (long)i), lsns);

        // Coalesced: far fewer batches reached the log than records.
        var stats = await client.GetStatisticsAsync(Timeouts.Token());
        Assert.Equal(pending.Length, stats.Appends);
        Assert.True(stats.Batches < pending.Length / 4, $"{stats.Batches} batches for {pending.Length} appends");
        var i2 = 0;
        await foreach (var record in client.ReadAsync(1, ct: Timeouts.Token()))
        {
            Assert.Equal("r" + i2++, Encoding.UTF8.GetString(record.Payload.Span));
        }

        Assert.Equal(pending.Length, i2);
    }

    [Fact]
    public async Task AppendAsync_CallerWaitsForAnotherReplyInItsContinuation_RepliesKeepBeingRead()
    {
        await using var client = await _server.ConnectAsync();

        // The continuation after an append runs on the thread that took its reply: blocking it on
        // another reply must not stop the replies from being read.
        var answered = await Task.Run(async () =>
        {
            await client.AppendAsync(Text("a"));
            return client.PingAsync(Timeouts.Token()).AsTask().Wait(Timeouts.Unexpected);
        }).WaitAsync(Timeouts.Token());

        Assert.True(answered);
        Assert.Equal(2, await client.AppendAsync(Text("b")));
    }

    [Fact]
    public async Task AppendBatchAsync_AfterAppendsNotYetSent_KeepsCallOrder()
    {
        await using var client = await _server.ConnectAsync();
        var singles = Enumerable.Range(0, 50).Select(i => client.AppendAsync(Text("s" + i)).AsTask()).ToArray();
        var batch = client.AppendBatchAsync(new ReadOnlyMemory<byte>[] { Text("x"), Text("y") }).AsTask();
        var after = client.AppendAsync(Text("after")).AsTask();

        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), await Task.WhenAll(singles));
        Assert.Equal(51, await batch);
        Assert.Equal(53, await after);
    }

    [Fact]
    public async Task AppendAsync_CallerReusesItsBufferAtOnce_EachRecordKeepsWhatItWasGiven()
    {
        await using var client = await _server.ConnectAsync();
        var buffer = new byte[3];
        var pending = new Task<long>[200];
        for (var i = 0; i < pending.Length; i++)
        {
            buffer.AsSpan().Fill((byte)i);
            pending[i] = client.AppendAsync(buffer).AsTask();
        }

        await Task.WhenAll(pending);
        var n = 0;
        await foreach (var record in client.ReadAsync(1, ct: Timeouts.Token()))
        {
            Assert.Equal([(byte)n, (byte)n, (byte)n], record.Payload.ToArray());
            n++;
        }

        Assert.Equal(pending.Length, n);
    }

    [Fact]
    public async Task AppendAsync_ManyRoundsOfPooledCompletions_EveryLsnOnce()
    {
        await using var client = await _server.ConnectAsync();
        var seen = new long[64 * 50];
        var producers = Enumerable.Range(0, 64).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                var lsn = await client.AppendAsync(Text($"{p}.{i}"));
                Interlocked.Increment(ref seen[lsn - 1]);
            }
        })).ToArray();
        await Task.WhenAll(producers).WaitAsync(Timeouts.Token());

        Assert.All(seen, count => Assert.Equal(1, count));
        var records = 0;
        await foreach (var record in client.ReadAsync(1, ct: Timeouts.Token()))
        {
            records++;
        }

        Assert.Equal(seen.Length, records);
    }

    [Fact]
    public async Task AppendBatchAsync_Records_ConsecutiveLsns()
    {
        await using var client = await _server.ConnectAsync();
        await client.AppendAsync(Text("first"));
        var first = await client.AppendBatchAsync(new ReadOnlyMemory<byte>[] { Text("x"), Text("y"), Text("z") });
        Assert.Equal(2, first);
        Assert.Equal(4, _server.Wal.WrittenLsn);
    }

    [Fact]
    public async Task ReadAsync_Follow_SeesRecordsAppendedLater()
    {
        await using var client = await _server.ConnectAsync();
        await using var writer = await _server.ConnectAsync();
        await writer.AppendAsync(Text("before"));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Timeouts.Token());
        var seen = new List<long>();
        var tail = Task.Run(async () =>
        {
            await foreach (var record in client.ReadAsync(1, new ReadOptions { Follow = true }, stop.Token))
            {
                seen.Add(record.Lsn);
                if (record.Lsn == 1)
                {
                    for (var i = 0; i < 99; i++)
                    {
                        _ = writer.AppendAsync(Text("later" + i)).AsTask();
                    }
                }

                if (record.Lsn == 100)
                {
                    return;
                }
            }
        });
        await tail.WaitAsync(Timeouts.Token());
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), seen);
    }

    [Fact]
    public async Task ReadRangeAsync_Max_ReturnsAtMostThatMany()
    {
        await using var client = await _server.ConnectAsync();
        for (var i = 0; i < 10; i++)
        {
            await client.AppendAsync(Text("r" + i));
        }

        var lsns = new List<long>();
        await foreach (var record in client.ReadRangeAsync(4, 3, Timeouts.Token()))
        {
            lsns.Add(record.Lsn);
        }

        Assert.Equal([4L, 5L, 6L], lsns);
    }

    [Fact]
    public async Task ReadFromCursorAsync_AfterCommit_StartsAfterCursor()
    {
        await using var client = await _server.ConnectAsync();
        for (var i = 0; i < 5; i++)
        {
            await client.AppendAsync(Text("r" + i));
        }

        await client.CommitCursorAsync("etl", 3, Timeouts.Token());
        Assert.Equal(3, _server.Wal.GetCursor("etl"));
        var lsns = new List<long>();
        await foreach (var record in client.ReadFromCursorAsync("etl", ct: Timeouts.Token()))
        {
            lsns.Add(record.Lsn);
        }

        Assert.Equal([4L, 5L], lsns);
    }

    [Fact]
    public async Task CommitCursorAsync_BadNameOrLsn_TypedErrorAndConnectionGoesOn()
    {
        await using var client = await _server.ConnectAsync();
        var badName = await Assert.ThrowsAsync<TruthDbException>(async () => await client.CommitCursorAsync("no/slash", 0, Timeouts.Token()));
        Assert.Equal(TruthDbErrorCode.InvalidArgument, badName.ErrorCode);
        var beyond = await Assert.ThrowsAsync<TruthDbException>(async () => await client.CommitCursorAsync("c", 99, Timeouts.Token()));
        Assert.Equal(TruthDbErrorCode.OutOfRange, beyond.ErrorCode);
        Assert.Equal(1, await client.AppendAsync(Text("still works")));
    }

    [Fact]
    public async Task ReadAsync_NegativeStart_TypedErrorAndConnectionGoesOn()
    {
        await using var client = await _server.ConnectAsync();
        var error = await Assert.ThrowsAsync<TruthDbException>(async () =>
        {
            await foreach (var record in client.ReadAsync(-5, ct: Timeouts.Token()))
            {
                _ = record;
            }
        });
        Assert.Equal(TruthDbErrorCode.OutOfRange, error.ErrorCode);
        Assert.Equal(1, await client.AppendAsync(Text("still works")));
    }

    [Fact]
    public async Task AppendAsync_RecordLargerThanMessage_ArgumentException()
    {
        await using var client = await _server.ConnectAsync();
        await Assert.ThrowsAsync<ArgumentException>(async () => await client.AppendAsync(new byte[client.MaxMessageSize]));
    }

    [Fact]
    public async Task TruncateBeforeAsync_AndStats_Answer()
    {
        await using var client = await _server.ConnectAsync();
        await client.AppendAsync(Text("a"));
        Assert.Equal(1, await client.TruncateBeforeAsync(1, Timeouts.Token()));
        var stats = await client.GetStatisticsAsync(Timeouts.Token());
        Assert.Equal(1, stats.WrittenLsn);
        Assert.Equal(1, stats.DurableLsn);
        Assert.Equal(_server.Wal.LogId, stats.LogId);
        Assert.Equal(1, stats.Connections);
    }

    [Fact]
    public async Task StopAsync_TailOpen_TailEndsAndAppendsInFlightAreAnswered()
    {
        await using var client = await _server.ConnectAsync();
        await client.AppendAsync(Text("a"));
        var tailStarted = new TaskCompletionSource();
        var tail = Task.Run(async () =>
        {
            var n = 0;
            await foreach (var record in client.ReadAsync(1, new ReadOptions { Follow = true }, Timeouts.Token()))
            {
                n++;
                tailStarted.TrySetResult();
            }

            return n;
        });
        await tailStarted.Task.WaitAsync(Timeouts.Token());
        var appends = Enumerable.Range(0, 200).Select(i => client.AppendAsync(Text("x" + i)).AsTask()).ToArray();
        await _server.Server.StopAsync();
        Assert.True(await tail.WaitAsync(Timeouts.Token()) >= 1);

        // Each append either was answered with its LSN, or (not read before the stop) fails as unknown: never silently lost.
        foreach (var append in appends)
        {
            try
            {
                Assert.True(await append.WaitAsync(Timeouts.Token()) > 1);
            }
            catch (TruthDbConnectionException)
            {
            }
        }
    }

    [Fact]
    public async Task ListenAsync_SocketDirectoryMissing_FailsAndCreatesNothing()
    {
        var missing = Path.Combine(_server.Log.Root, "missing");
        await using var other = new TruthDbServer(_server.Wal);
        await Assert.ThrowsAsync<DirectoryNotFoundException>(async () => await other.ListenAsync(Path.Combine(missing, "s.sock")));
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task ListenAsync_LiveServerOnThePath_Refused()
    {
        await using var other = new TruthDbServer(_server.Wal);
        var error = await Assert.ThrowsAsync<IOException>(async () => await other.ListenAsync(_server.Socket));
        Assert.Contains("Another server", error.Message);
        await using var client = await _server.ConnectAsync();
        Assert.Equal(1, await client.AppendAsync(Text("still served")));
    }
}
