using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Tests.Storage;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Reading;

public sealed class SparseIndexTests
{
    [Fact]
    public async Task ReadFromAnyLsn_SealedOrActiveSegment_StartsExactlyThere()
    {
        using var dir = new TestDirectory();
        var options = new WalOptions { Directory = dir.Path, SegmentSize = 256 * 1024 };
        var payloads = new List<byte[]>();
        await using (var wal = await Wal.OpenAsync(options))
        {
            for (var i = 0; i < 6000; i++)
            {
                payloads.Add(Payloads.Make(0, i, 12 + (i * 37 % 500)));
                await wal.AppendAsync(payloads[^1]);
            }

            Assert.True(wal.GetStatistics().Segments >= 3);
            await CheckSeeksAsync(wal, payloads);
        }

        // After reopening: sealed segments from their sidecars, the active one from recovery's scan.
        Assert.NotEmpty(Directory.GetFiles(dir.Path, "*.idx"));
        await using (var wal = await Wal.OpenAsync(options))
        {
            await CheckSeeksAsync(wal, payloads);
        }
    }

    [Fact]
    public async Task DamagedOrMissingSidecar_IsDetectedAndRebuilt()
    {
        var storage = new SimulatedStorage("sim://index");
        var options = SimulatedWorkload.OptionsFor(storage);
        options.SegmentSize = 512 * 1024;
        var payloads = new List<byte[]>();
        await using (var wal = await Wal.OpenAsync(options))
        {
            for (var i = 0; i < 4000; i++)
            {
                payloads.Add(Payloads.Make(0, i, 300));
                await wal.AppendAsync(payloads[^1]);
            }
        }

        var sidecars = storage.ListFiles().Where(n => n.EndsWith(".idx", StringComparison.Ordinal)).ToList();
        Assert.True(sidecars.Count >= 2, "sealed segments should have sidecars");
        storage.FlipBit(sidecars[0], 25, 2);
        storage.Delete(sidecars[1]);

        await using (var wal = await Wal.OpenAsync(options))
        {
            await CheckSeeksAsync(wal, payloads);
        }

        foreach (var sidecar in sidecars.Take(2))
        {
            var firstLsn = long.Parse(sidecar[..20], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(SparseIndex.TryDecode(storage.ReadAllCurrent(sidecar), firstLsn, options.SegmentSize, out var index), $"{sidecar} was not rebuilt");
            Assert.True(index.Count > 0);
        }
    }

    private static async Task CheckSeeksAsync(Wal wal, List<byte[]> payloads)
    {
        var random = new Random(3);
        for (var i = 0; i < 60; i++)
        {
            var from = random.NextInt64(1, payloads.Count + 1);
            await using var reader = wal.ReadAsync(from).GetAsyncEnumerator();
            Assert.True(await reader.MoveNextAsync());
            Assert.Equal(from, reader.Current.Lsn);
            Assert.Equal(payloads[(int)from - 1], reader.Current.Payload.ToArray());
        }
    }
}
