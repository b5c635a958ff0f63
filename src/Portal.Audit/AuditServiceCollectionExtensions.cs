using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Portal.Audit;

/// <summary>The audit project's entry point.</summary>
public static class AuditServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IAuditTrail"/>, <see cref="ICallerPseudonymizer"/> and, unless the host has one,
    /// an <see cref="IAuditRetention"/> of <see cref="AuditOptions.DefaultRetentionDays"/>. It needs an
    /// <c>IDocumentStore</c> (AddPortalStorage). <see cref="AuditOptions"/> is validated at start-up but not
    /// bound here: the host fills it (the key comes from a secret reference).
    /// </summary>
    public static IServiceCollection AddPortalAudit(this IServiceCollection services)
    {
        services.AddOptions<AuditOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ICallerPseudonymizer, HmacCallerPseudonymizer>();
        services.TryAddSingleton<IAuditRetention, DefaultAuditRetention>();
        services.TryAddSingleton<IAuditTrail, AuditTrail>();
        return services;
    }
}
