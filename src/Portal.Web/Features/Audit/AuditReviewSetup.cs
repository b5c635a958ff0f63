using Portal.Audit;
using Portal.Web.Agents;

namespace Portal.Web.Features.Audit;

/// <summary>
/// Registers the audit review, exports and usage metering. The SIEM API's keys come with their authentication scheme
/// (<see cref="ApiKeyAuthentication.AddApiKeys"/>).
/// </summary>
public static class AuditReviewSetup
{
    public static IServiceCollection AddPortalAuditReview(this IServiceCollection services)
    {
        services.AddPortalAuditReporting();
        services.AddScoped<AuditExportRunner>();
        return services;
    }
}
