using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TruthDb.Dataflow.Hosting;

/// <summary>Registers a <see cref="Wal"/> with the generic host.</summary>
public static class WalServiceCollectionExtensions
{
    /// <summary>The logger category of the log's lifecycle events: <c>TruthDb.Dataflow.Wal</c>.</summary>
    public const string LoggerCategory = "TruthDb.Dataflow.Wal";

    /// <summary>
    /// Registers <see cref="WalOptions"/> bound from the section <see cref="WalConfiguration.SectionName"/>
    /// of <paramref name="configuration"/> (then <paramref name="configure"/>, if given), validated when
    /// the host starts (<c>ValidateOnStart</c>: a bad value fails the start with the message
    /// <see cref="Wal.OpenAsync"/> would give), and a singleton <see cref="Wal"/> that is opened when it
    /// is first resolved or when the host starts, whichever comes first (so hosted services may take it
    /// in their constructors and append from their <c>StartAsync</c>), and disposed — drained, synced and
    /// closed — when the host stops (after every hosted service's <c>StopAsync</c>).
    /// Unless set otherwise, <see cref="WalOptions.Logger"/> logs to the category
    /// <see cref="LoggerCategory"/> and <see cref="WalOptions.MeterFactory"/> is the container's
    /// <see cref="IMeterFactory"/>. Options are read once, at start; later configuration changes do not
    /// reach the open log.
    /// </summary>
    public static IServiceCollection AddTruthDbWal(this IServiceCollection services, IConfiguration configuration, Action<WalOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = services.AddOptions<WalOptions>()
            .Configure(o => WalConfiguration.Bind(configuration.GetSection(WalConfiguration.SectionName), o));
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.PostConfigure<IServiceProvider>(static (o, provider) =>
            {
                o.Logger ??= provider.GetService<ILoggerFactory>()?.CreateLogger(LoggerCategory);
                o.MeterFactory ??= provider.GetService<IMeterFactory>();
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WalOptions>, WalOptionsValidator>());
        if (!services.Any(d => d.ServiceType == typeof(WalHostedService)))
        {
            services.AddSingleton<WalHostedService>();
            services.AddHostedService(static provider => provider.GetRequiredService<WalHostedService>());
            services.AddSingleton(static provider => provider.GetRequiredService<WalHostedService>().Wal);
        }

        return services;
    }
}
