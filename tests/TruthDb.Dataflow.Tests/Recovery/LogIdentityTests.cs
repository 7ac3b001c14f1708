using TruthDb.Dataflow.Inspection;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Recovery;

/// <summary>
/// A new log created as a copy of another (<see cref="WalOptions.LogId"/>, <see cref="WalOptions.FirstLsn"/>):
/// it has the source's id and goes on from the source's LSNs; an existing log opens only as itself.
/// </summary>
public sealed class LogIdentityTests : IDisposable
{
    private readonly TestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task OpenAsync_NewLogWithGivenIdAndFirstLsn_HasThemAndAppendsFromThere()
    {
        var id = Guid.NewGuid();
        await using (var wal = await Wal.OpenAsync(Options(id, 1_000)))
        {
            Assert.Equal(id, wal.LogId);
            Assert.Equal((999L, 999L, 0L), (wal.WrittenLsn, wal.DurableLsn, wal.FirstLsn));
            Assert.Equal(1_000, await wal.AppendAsync(new byte[] { 1 }));
            Assert.Equal(1_001, await wal.AppendAsync(new byte[] { 2 }));
            Assert.Equal(1_000, wal.FirstLsn);
        }

        // Reopened, with or without the options: the same log, the same LSNs.
        await using (var wal = await Wal.OpenAsync(Options(id, 1)))
        {
            Assert.Equal((id, 1_001L, 1_000L), (wal.LogId, wal.DurableLsn, wal.FirstLsn));
        }

        await using (var wal = await Wal.OpenAsync(new WalOptions { Directory = _dir.Path }))
        {
            var lsns = new List<long>();
            await foreach (var record in wal.ReadAsync(0))
            {
                lsns.Add(record.Lsn);
            }

            Assert.Equal([1_000L, 1_001L], lsns);
        }

        Assert.True(LogInspector.Verify(_dir.Path).IsClean);
    }

    [Fact]
    public async Task OpenAsync_NewLogStartingLaterWithoutRecords_ReadsNothingAndReopensAtTheSameLsn()
    {
        await using (var wal = await Wal.OpenAsync(Options(Guid.NewGuid(), 50)))
        {
            Assert.Equal(49, wal.WrittenLsn);
        }

        using (var reader = WalReader.Open(_dir.Path))
        {
            Assert.Equal(49, reader.DurableLsn);
            await foreach (var record in reader.ReadAsync(0))
            {
                Assert.Fail($"an empty log returned LSN {record.Lsn}");
            }
        }

        await using var again = await Wal.OpenAsync(new WalOptions { Directory = _dir.Path });
        Assert.Equal((49L, 50L), (again.WrittenLsn, await again.AppendAsync(new byte[] { 7 })));
    }

    [Fact]
    public async Task OpenAsync_ExistingLogWithAnotherId_RefusesNamingBoth()
    {
        Guid existing;
        await using (var wal = await Wal.OpenAsync(new WalOptions { Directory = _dir.Path }))
        {
            existing = wal.LogId;
            await wal.AppendAsync(new byte[] { 1 });
        }

        var other = Guid.NewGuid();
        var error = await Assert.ThrowsAsync<IOException>(async () => await Wal.OpenAsync(Options(other, 1)));
        Assert.Contains($"WalOptions.LogId is {other:N}, but the log in", error.Message, StringComparison.Ordinal);
        Assert.Contains($"is another log (log id {existing:N})", error.Message, StringComparison.Ordinal);

        // The refusal changed nothing: the log opens as itself.
        await using var wal2 = await Wal.OpenAsync(Options(existing, 1));
        Assert.Equal(1, wal2.DurableLsn);
    }

    [Theory]
    [InlineData(0L, "WalOptions.FirstLsn is 0; it must be 1 to")]
    [InlineData(-5L, "WalOptions.FirstLsn is -5; it must be 1 to")]
    public void Validate_BadFirstLsn_NamesIt(long first, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new WalOptions { Directory = _dir.Path, FirstLsn = first }.Validate());
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.Equal("FirstLsn", error.ParamName);
        Assert.Equal("LogId", Assert.Throws<ArgumentException>(() => new WalOptions { Directory = _dir.Path, LogId = Guid.Empty }.Validate()).ParamName);
    }

    private WalOptions Options(Guid id, long first) => new() { Directory = _dir.Path, LogId = id, FirstLsn = first, SegmentSize = 1024 * 1024 };
}
