using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TruthDb.Dataflow.Hosting;
using TruthDb.Dataflow.Tests.Support;

namespace TruthDb.Dataflow.Tests.Hosting;

public sealed class WalServiceCollectionTests
{
    [Fact]
    public async Task Host_Start_OpensTheLog_AndStop_ClosesIt()
    {
        using var dir = new TestDirectory();
        var logDir = Path.Combine(dir.Path, "log");
        var logger = new TestLogger();
        using (var host = Build(logger, ("TruthDb:Wal:Directory", logDir), ("TruthDb:Wal:SegmentSize", "64KiB"), ("TruthDb:Wal:FlushInterval", "10ms")))
        {
            await host.StartAsync(Timeouts.Token());
            var wal = host.Services.GetRequiredService<Wal>();
            Assert.Equal(Path.GetFullPath(logDir), wal.Directory);
            Assert.Equal(64 * 1024, host.Services.GetRequiredService<IOptions<WalOptions>>().Value.SegmentSize);
            Assert.Equal(1, await wal.AppendAsync(new byte[] { 1, 2, 3 }));

            await host.StopAsync(Timeouts.Token());
            await Assert.ThrowsAsync<ObjectDisposedException>(async () => await wal.AppendAsync(new byte[] { 4 }));
        }

        Assert.Single(logger.Events(4));
        Assert.Single(logger.Events(13));
        await using var reopened = await Wal.OpenAsync(new WalOptions { Directory = logDir, SegmentSize = 64 * 1024 });
        Assert.Equal(1, reopened.DurableLsn);
    }

    [Fact]
    public async Task Host_OutOfRangeValue_FailsTheStartWithTheEngineMessage()
    {
        using var dir = new TestDirectory();
        var logDir = Path.Combine(dir.Path, "log");
        using var host = Build(null, ("TruthDb:Wal:Directory", logDir), ("TruthDb:Wal:SegmentSize", "1000"));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Timeouts.Token()));

        Assert.Contains("WalOptions.SegmentSize is 1,000 bytes; it must be a multiple of 4096 bytes from 65,536 bytes to 17,179,869,184 bytes.", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(logDir), "a rejected start must not create the log");
    }

    [Fact]
    public async Task Host_UnparsableValueOrUnknownKey_FailsTheStartNamingTheKey()
    {
        using var dir = new TestDirectory();
        using var host = Build(null, ("TruthDb:Wal:Directory", dir.Path), ("TruthDb:Wal:MaxBatchDelay", "soon"), ("TruthDb:Wal:Segmentsize2", "1"));

        var error = await Assert.ThrowsAsync<WalConfigurationException>(() => host.StartAsync(Timeouts.Token()));

        Assert.Contains("'TruthDb:Wal:MaxBatchDelay' is 'soon', which is not a duration", error.Message, StringComparison.Ordinal);
        Assert.Contains("'TruthDb:Wal:Segmentsize2' is not an option of the log", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_MissingDirectory_FailsTheStart()
    {
        using var host = Build(null);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Timeouts.Token()));

        Assert.Contains("WalOptions.Directory is (empty)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_ConfigureCallback_OverridesConfiguration()
    {
        using var dir = new TestDirectory();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("TruthDb:Wal:Directory", "not-used"), new("TruthDb:Wal:Durability", "Sync")]);
        builder.Services.AddTruthDbWal(builder.Configuration, o =>
        {
            o.Directory = dir.Path;
            o.Durability = Durability.Written;
        });
        using var host = builder.Build();
        await host.StartAsync(Timeouts.Token());

        var options = host.Services.GetRequiredService<IOptions<WalOptions>>().Value;
        Assert.Equal(dir.Path, options.Directory);
        Assert.Equal(Durability.Written, options.Durability);
        await host.StopAsync(Timeouts.Token());
    }

    [Fact]
    public async Task Host_Metrics_GoToTheContainersMeterFactory()
    {
        using var dir = new TestDirectory();
        using var host = Build(null, ("TruthDb:Wal:Directory", dir.Path));
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        using var metrics = new MetricsCollector(dir.Path, scope: factory);
        await host.StartAsync(Timeouts.Token());
        var wal = host.Services.GetRequiredService<Wal>();
        for (var i = 0; i < 5; i++)
        {
            await wal.AppendAsync(new byte[10]);
        }

        Assert.Same(factory, host.Services.GetRequiredService<IOptions<WalOptions>>().Value.MeterFactory);
        Assert.Equal(5, metrics.Sum("truthdb.wal.records.appended"));
        await host.StopAsync(Timeouts.Token());
    }

    [Fact]
    public async Task Host_HostedServiceTakingWalInItsConstructor_AppendsAsItStartsAndStops()
    {
        using var dir = new TestDirectory();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("TruthDb:Wal:Directory", dir.Path)]);
        builder.Services.AddHostedService<Producer>();
        builder.Services.AddTruthDbWal(builder.Configuration);
        using (var host = builder.Build())
        {
            await host.StartAsync(Timeouts.Token());
            var wal = host.Services.GetRequiredService<Wal>();
            Assert.Equal(1, wal.DurableLsn);
            await host.StopAsync(Timeouts.Token());
            Assert.Equal(2, wal.DurableLsn);
        }

        await using var reopened = await Wal.OpenAsync(new WalOptions { Directory = dir.Path });
        Assert.Equal(2, reopened.DurableLsn);
    }

    [Fact]
    public async Task Host_DisposedWithoutStop_StillClosesTheLog()
    {
        using var dir = new TestDirectory();
        Wal wal;
        using (var host = Build(null, ("TruthDb:Wal:Directory", dir.Path)))
        {
            await host.StartAsync(Timeouts.Token());
            wal = host.Services.GetRequiredService<Wal>();
            await wal.AppendAsync(new byte[] { 1 });
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await wal.AppendAsync(new byte[] { 2 }));
        await using var reopened = await Wal.OpenAsync(new WalOptions { Directory = dir.Path });
        Assert.Equal(1, reopened.DurableLsn);
    }

    private static IHost Build(TestLogger? logger, params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        if (logger is not null)
        {
            builder.Logging.AddProvider(logger);
        }

        builder.Services.AddTruthDbWal(builder.Configuration);
        return builder.Build();
    }

    private sealed class Producer(Wal wal) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken) => await wal.AppendAsync("started"u8.ToArray(), cancellationToken);

        public async Task StopAsync(CancellationToken cancellationToken) => await wal.AppendAsync("stopping"u8.ToArray(), cancellationToken);
    }
}
