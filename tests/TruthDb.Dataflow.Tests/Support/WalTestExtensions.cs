namespace TruthDb.Dataflow.Tests.Support;

internal static class WalTestExtensions
{
    /// <summary>Reads every record (copied) from <paramref name="fromLsn"/> up to the durable watermark.</summary>
    public static async Task<List<(long Lsn, byte[] Payload)>> ReadAllAsync(this Wal wal, long fromLsn = 0, ReadOptions? options = null)
    {
        var records = new List<(long, byte[])>();
        await foreach (var record in wal.ReadAsync(fromLsn, options, Timeouts.Token()))
        {
            records.Add((record.Lsn, record.ToArray()));
        }

        return records;
    }
}
