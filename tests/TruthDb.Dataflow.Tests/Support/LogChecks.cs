using TruthDb.Dataflow.Tests.Storage;

namespace TruthDb.Dataflow.Tests.Support;

/// <summary>The invariants every recovered log must satisfy.</summary>
internal static class LogChecks
{
    /// <summary>Opens the log in <paramref name="storage"/> (logging to <paramref name="logger"/>, when given), reads everything, and disposes it.</summary>
    public static async Task<List<(long Lsn, byte[] Payload)>> RecoverAsync(SimulatedStorage storage, Durability durability = Durability.Sync, TestLogger? logger = null)
    {
        await using var wal = await Wal.OpenAsync(SimulatedWorkload.OptionsFor(storage, durability, logger));
        Assert.Equal(wal.WrittenLsn, wal.DurableLsn);
        var records = await wal.ReadAllAsync();
        Assert.Equal(wal.DurableLsn, records.Count == 0 ? 0 : records[^1].Lsn);
        return records;
    }

    /// <summary>
    /// Dense prefix 1..R, R ≥ <paramref name="mustHave"/>, every record byte-exact, acknowledged
    /// records equal to what was acknowledged, and no record that was never appended.
    /// </summary>
    public static void AssertValidPrefix(List<(long Lsn, byte[] Payload)> records, SimulatedWorkload workload, long mustHave, string context)
    {
        Assert.True(records.Count >= mustHave, $"{context}: recovered {records.Count} records, but LSN {mustHave} was acknowledged as surviving this crash");
        var seen = new HashSet<(int, int)>();
        for (var i = 0; i < records.Count; i++)
        {
            var (lsn, payload) = records[i];
            Assert.True(lsn == i + 1, $"{context}: record {i} has LSN {lsn}");
            Assert.True(Payloads.IsIntact(payload, out var producer, out var sequence), $"{context}: LSN {lsn} is not an intact payload");
            Assert.True(workload.Submitted.ContainsKey((producer, sequence)), $"{context}: LSN {lsn} holds ({producer}, {sequence}), which was never appended");
            Assert.True(seen.Add((producer, sequence)), $"{context}: ({producer}, {sequence}) appears twice");
            if (workload.Acknowledged.TryGetValue(lsn, out var acknowledged))
            {
                Assert.True(acknowledged.AsSpan().SequenceEqual(payload), $"{context}: LSN {lsn} differs from what was acknowledged");
            }
        }
    }

    /// <summary>Asserts two recoveries produced the same log.</summary>
    public static void AssertSame(List<(long Lsn, byte[] Payload)> expected, List<(long Lsn, byte[] Payload)> actual, string context)
    {
        Assert.True(expected.Count == actual.Count, $"{context}: {expected.Count} records the first time, {actual.Count} the second");
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Lsn == actual[i].Lsn && expected[i].Payload.AsSpan().SequenceEqual(actual[i].Payload), $"{context}: record {i} differs between recoveries");
        }
    }
}
