// Shared source: compiled into the test projects that compare what a reader returned with a log.
namespace TruthDb.Dataflow.Testing;

/// <summary>Records copied out of a read (a payload is only valid until the enumerator moves on), and compared.</summary>
internal static class RecordCopies
{
    /// <summary>
    /// Copies <paramref name="records"/> (LSN and payload bytes) up to the one with LSN
    /// <paramref name="last"/> (a tail stops there) or the end; <paramref name="seen"/> is told each LSN.
    /// </summary>
    public static async Task<List<(long Lsn, byte[] Payload)>> CopyAsync(IAsyncEnumerable<WalRecord> records, long last = long.MaxValue, Action<long>? seen = null)
    {
        var copies = new List<(long Lsn, byte[] Payload)>();
        await foreach (var record in records)
        {
            copies.Add((record.Lsn, record.Payload.ToArray()));
            seen?.Invoke(record.Lsn);
            if (record.Lsn == last)
            {
                break;
            }
        }

        return copies;
    }

    /// <summary>Asserts that <paramref name="actual"/> holds the LSNs of <paramref name="expected"/>, in order, with the same bytes.</summary>
    public static void AssertSame(List<(long Lsn, byte[] Payload)> expected, List<(long Lsn, byte[] Payload)> actual)
    {
        Assert.Equal(expected.Select(r => r.Lsn), actual.Select(r => r.Lsn));
        Assert.All(expected.Zip(actual), pair => Assert.True(pair.First.Payload.AsSpan().SequenceEqual(pair.Second.Payload), $"LSN {pair.First.Lsn}: other bytes"));
    }
}
