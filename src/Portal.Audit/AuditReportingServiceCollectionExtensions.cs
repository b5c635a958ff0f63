using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Portal.Audit;

/// <summary>The entry point of the audit project's read side: export, record look-up and usage metering.</summary>
public static class AuditReportingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IAuditExporter"/>, <see cref="IAuditRecordReader"/>, <see cref="IUsageMeter"/> and
    /// <see cref="IUsageReport"/>. It needs what <see cref="AuditServiceCollectionExtensions.AddPortalAudit"/> registers.
    /// </summary>
    public static IServiceCollection AddPortalAuditReporting(this IServiceCollection services)
    {
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IAuditExporter, AuditExporter>();
        services.TryAddSingleton<IAuditRecordReader, AuditRecordReader>();
        services.TryAddSingleton<UsageMeter>();
        services.TryAddSingleton<IUsageMeter>(sp => sp.GetRequiredService<UsageMeter>());
        services.TryAddSingleton<IUsageReport>(sp => sp.GetRequiredService<UsageMeter>());
        return services;
    }
}
