using System.Security.Cryptography;
using System.Text;
using TruthDb.Dataflow.Ipc.Tests.Support;

namespace TruthDb.Dataflow.Ipc.Tests.Server;

/// <summary>
/// A read-only server (<see cref="TruthDbServer.CreateReadOnly"/>) over a <see cref="WalReader"/> of a
/// directory that a <see cref="Wal"/> in this test writes: reads and tails as on the writer's server,
/// every write request refused with <see cref="TruthDbErrorCode.ReadOnly"/> on a connection that goes on,
/// and nothing in the directory touched.
/// </summary>
public sealed class ReadOnlyServerTests : IDisposable
{
    private readonly TestLog _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Tail_WhileTheWriterAppends_SeesEveryNewDurableRecordWithItsLsn()
    {
        var ct = Timeouts.Token();
        await using var wal = await Wal.OpenAsync(_log.Options());
        await AppendAsync(wal, 1, 20, ct);
        using var reader = WalReader.Open(_log.Dir);
        await using var server = await ListenAsync(reader);
        await using var client = await TruthDbClient.ConnectAsync(_log.Socket, ct: ct);
        Assert.True(client.IsReadOnly);
        Assert.Equal(wal.LogId, client.LogId);

        var tail = RecordCopies.CopyAsync(client.ReadAsync(0, new ReadOptions { Follow = true }, ct), last: 150);
        await AppendAsync(wal, 21, 150, ct);
        var tailed = await tail.WaitAsync(ct);

        var source = await RecordCopies.CopyAsync(wal.ReadAsync(1, ct: ct));
        Assert.Equal(150, source.Count);
        RecordCopies.AssertSame(source, tailed);
    }

    [Fact]
    public async Task WriteRequests_WhileTheWriterIsOpen_AreRefusedAsReadOnlyAndTheConnectionGoesOn()
    {
        var ct = Timeouts.Token();
        await using var wal = await Wal.OpenAsync(_log.Options());
        await AppendAsync(wal, 1, 30, ct);
        using var reader = WalReader.Open(_log.Dir);
        await using var server = await ListenAsync(reader);
        await using var client = await TruthDbClient.ConnectAsync(_log.Socket, ct: ct);

        var append = await Assert.ThrowsAsync<TruthDbException>(async () => await client.AppendAsync(Encoding.UTF8.GetBytes("x"), ct));
        var batch = await Assert.ThrowsAsync<TruthDbException>(async () => await client.AppendBatchAsync([new byte[] { 1 }, new byte[] { 2 }], ct));
        var commit = await Assert.ThrowsAsync<TruthDbException>(async () => await client.CommitCursorAsync("reader", 10, ct));
        var truncate = await Assert.ThrowsAsync<TruthDbException>(async () => await client.TruncateBeforeAsync(20, ct));

        Assert.All([append, batch, commit, truncate], ex => Assert.Equal(TruthDbErrorCode.ReadOnly, ex.ErrorCode));
        Assert.Contains("read-only replica: appends go to the log's writer", append.Message, StringComparison.Ordinal);
        Assert.Contains("cursor commits go to the log's writer", commit.Message, StringComparison.Ordinal);

        // The connection goes on, and the log holds nothing of what was refused.
        Assert.True(await client.PingAsync(ct) > TimeSpan.Zero);
        Assert.Equal(30, await CountAsync(client.ReadAsync(0, ct: ct)));
        Assert.Equal(30, wal.WrittenLsn);
        Assert.Equal(1, wal.FirstLsn);
        Assert.Empty(wal.Cursors);
        var stats = await client.GetStatisticsAsync(ct);
        Assert.True(stats.ReadOnly);
        Assert.Equal((30L, 30L, 1L, wal.LogId), (stats.WrittenLsn, stats.DurableLsn, stats.FirstLsn, stats.LogId));
        Assert.Equal((0L, 0L, 0L), (stats.Appends, stats.Batches, stats.Syncs));
    }

    [Fact]
    public async Task Serving_ALogNoWriterHasOpen_ChangesNoFileInTheDirectory()
    {
        var ct = Timeouts.Token();
        await using (var wal = await Wal.OpenAsync(_log.Options()))
        {
            await AppendAsync(wal, 1, 40, ct);
            await wal.CommitCursorAsync("etl", 25, ct);
        }

        var before = Snapshot(_log.Dir);
        using (var reader = WalReader.Open(_log.Dir))
        {
            await using var server = await ListenAsync(reader);
            await using var client = await TruthDbClient.ConnectAsync(_log.Socket, ct: ct);
            Assert.Equal(40, await CountAsync(client.ReadAsync(0, ct: ct)));
            Assert.Equal(15, await CountAsync(client.ReadFromCursorAsync("etl", ct: ct)));
            Assert.Equal(5, await CountAsync(client.ReadRangeAsync(10, 5, ct)));
            await Assert.ThrowsAsync<TruthDbException>(async () => await client.AppendAsync(new byte[] { 7 }, ct));
            await Assert.ThrowsAsync<TruthDbException>(async () => await client.CommitCursorAsync("etl", 40, ct));
            await Assert.ThrowsAsync<TruthDbException>(async () => await client.TruncateBeforeAsync(40, ct));
            Assert.Equal(40, (await client.GetStatisticsAsync(ct)).WrittenLsn);
            await server.StopAsync();
        }

        Assert.Equal(before, Snapshot(_log.Dir));
        await using var reopened = await Wal.OpenAsync(_log.Options());
        Assert.Equal((40L, 25L), (reopened.WrittenLsn, reopened.GetCursor("etl")));
    }

    [Fact]
    public async Task Read_PastAnEndNoWriterVouchesFor_SendsEveryReadableRecordThenFailsAsCorrupted()
    {
        var ct = Timeouts.Token();
        await using (var wal = await Wal.OpenAsync(_log.Options()))
        {
            await AppendAsync(wal, 1, 40, ct);
        }

        // As after a crash: no clean-close note, and bytes after the last record that no writer has
        // truncated yet (a torn write, or damage: a reader without a writer cannot tell which).
        File.Delete(Path.Combine(_log.Dir, "truthdb.clean"));
        var segment = Assert.Single(Directory.GetFiles(_log.Dir, "*.wal"));
        await using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            file.Position = file.Length / 2;
            await file.WriteAsync("torn write"u8.ToArray(), ct);
        }

        using var reader = WalReader.Open(_log.Dir);
        await using var server = await ListenAsync(reader);
        await using var client = await TruthDbClient.ConnectAsync(_log.Socket, ct: ct);
        var seen = 0;
        var error = await Assert.ThrowsAsync<TruthDbException>(async () =>
        {
            await foreach (var record in client.ReadAsync(0, ct: ct))
            {
                Assert.Equal(++seen, record.Lsn);
            }
        });

        Assert.Equal(40, seen);
        Assert.Equal(TruthDbErrorCode.Corrupted, error.ErrorCode);
        Assert.Contains("cannot be read past LSN 40", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(segment), error.Message, StringComparison.Ordinal);
        Assert.True(await client.PingAsync(ct) > TimeSpan.Zero);
    }

    private async Task<TruthDbServer> ListenAsync(IWalReader reader)
    {
        var server = TruthDbServer.CreateReadOnly(reader);
        Assert.True(server.IsReadOnly);
        await server.ListenAsync(_log.Socket);
        return server;
    }

    private static async Task AppendAsync(Wal wal, int from, int to, CancellationToken ct)
    {
        for (var lsn = from; lsn <= to; lsn++)
        {
            Assert.Equal(lsn, await wal.AppendAsync(Encoding.UTF8.GetBytes($"record {lsn} " + new string('x', lsn % 97)), ct));
        }
    }

    private static async Task<int> CountAsync(IAsyncEnumerable<WalRecord> records)
    {
        var count = 0;
        await foreach (var record in records)
        {
            _ = record;
            count++;
        }

        return count;
    }

    // Every file and folder under the directory: its path, size, modification time and content hash.
    private static string Snapshot(string directory)
    {
        var lines = new List<string> { $"./ {Directory.GetLastWriteTimeUtc(directory):O}" };
        foreach (var path in Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(directory, path);
            var info = new FileInfo(path);
            lines.Add(Directory.Exists(path)
                ? $"{relative}/ {Directory.GetLastWriteTimeUtc(path):O}"
                : $"{relative} {info.Length} {info.LastWriteTimeUtc:O} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))}");
        }

        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }
}
