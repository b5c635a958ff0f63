using Portal.Audit;
using Portal.Web.Agents;

namespace Portal.Web.Features.Audit;

/// <summary>Registers the audit review, exports, SIEM API keys and usage metering.</summary>
public static class AuditReviewSetup
{
    public static IServiceCollection AddPortalAuditReview(this IServiceCollection services)
    {
        services.AddPortalAuditReporting();
        services.AddSingleton<ApiKeyStore>();
        services.AddScoped<ApiKeyAuthorizationFilter>();
        services.AddScoped<AuditExportRunner>();
        return services;
    }
}
