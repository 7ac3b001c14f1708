namespace TruthDb.Dataflow.Replication.Nats.Tests.Support;

/// <summary>Compares a restored log with its source, read-only on both (WalReader): the same id, the same LSNs, byte for byte.</summary>
internal static class LogComparison
{
    /// <summary>
    /// Asserts that the log in <paramref name="restored"/> has the id of the log in <paramref name="source"/>
    /// and holds exactly the source's records from <paramref name="from"/> to <paramref name="to"/>.
    /// </summary>
    public static async Task AssertSameAsync(string source, string restored, long from, long to, CancellationToken ct)
    {
        using var left = WalReader.Open(source);
        using var right = WalReader.Open(restored);
        Assert.Equal(left.LogId, right.LogId);
        var options = new ReadOptions { Watermark = WalWatermark.Written };
        await using var copies = right.ReadAsync(0, options, ct).GetAsyncEnumerator(ct);
        var expected = from;
        await foreach (var record in left.ReadAsync(from, options, ct))
        {
            if (record.Lsn > to)
            {
                break;
            }

            Assert.True(await copies.MoveNextAsync(), $"the restored log ends before LSN {record.Lsn}");
            Assert.True(copies.Current.Lsn == record.Lsn, $"the restored log holds LSN {copies.Current.Lsn} where the source has LSN {record.Lsn}");
            Assert.True(record.Payload.Span.SequenceEqual(copies.Current.Payload.Span), $"LSN {record.Lsn}: the restored bytes differ from the source's");
            expected++;
        }

        Assert.Equal(to + 1, expected);
        Assert.False(await copies.MoveNextAsync(), $"the restored log holds LSN {copies.Current.Lsn}, beyond LSN {to}");
    }
}
