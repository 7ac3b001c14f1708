using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Writing;

public sealed class SmokeTests
{
    [Fact]
    public async Task AppendAsync_ThenReopen_ReadsBackEveryRecord()
    {
        using var dir = new TestDirectory();
        var options = new WalOptions { Directory = dir.Path, SegmentSize = 64 * 1024 };
        await using (var wal = await Wal.OpenAsync(options))
        {
            for (var i = 0; i < 1000; i++)
            {
                var lsn = await wal.AppendAsync(Payloads.Make(0, i, 100));
                Assert.Equal(i + 1, lsn);
            }

            Assert.Equal(1000, wal.DurableLsn);
        }

        await using (var wal = await Wal.OpenAsync(options))
        {
            Assert.Equal(1000, wal.DurableLsn);
            Assert.Equal(1, wal.FirstLsn);
            var records = await wal.ReadAllAsync();
            Assert.Equal(1000, records.Count);
            for (var i = 0; i < records.Count; i++)
            {
                Assert.Equal(i + 1, records[i].Lsn);
                Assert.Equal(Payloads.Make(0, i, 100), records[i].Payload);
            }
        }
    }
}
