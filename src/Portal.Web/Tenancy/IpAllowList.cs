using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Portal.Audit;
using Portal.Web.Agents;
using Portal.Web.Platform;

namespace Portal.Web.Tenancy;

/// <summary>
/// Enforces the tenant's allow-list (docs/security-requirements.md A4) on every request of a signed-in agent (their tenant's
/// list) and on the sign-in callback <c>/signin-oidc/{tenantId}</c> (that tenant's list, before the code is
/// redeemed). Runs just before the authentication middleware and authenticates the cookie itself; the
/// result is cached for the request, so the cookie is validated once.
/// </summary>
internal sealed partial class IpAllowListMiddleware(RequestDelegate next, ClientAddressResolver resolver, ITenantCatalog tenants, IAuditTrail audit, ILogger<IpAllowListMiddleware> logger)
{
    private static readonly PathString CallbackPrefix = new("/signin-oidc");

    public async Task InvokeAsync(HttpContext context)
    {
        // The one resolution of the request (ForwardedRequestMiddleware), also used by the rate limits and the audit.
        var address = resolver.Resolve(context);

        // The error page re-executed for a refusal shows nothing of the tenant; the refused request was checked.
        if (context.Features.Get<IStatusCodeReExecuteFeature>() is not null)
        {
            await next(context);
            return;
        }

        AgentContext? agent = null;
        string? tenantId;
        var isCallback = context.Request.Path.StartsWithSegments(CallbackPrefix, out var rest) && rest.HasValue;
        if (isCallback)
        {
            tenantId = rest.Value!.Trim('/');
        }
        else
        {
            var result = await context.AuthenticateAsync(AgentSignIn.CookieScheme);
            agent = result.Succeeded && result.Principal is not null ? AgentContext.From(result.Principal) : null;
            tenantId = agent?.TenantId;
        }

        // F3: the OIDC handler matches its callback path case-insensitively, so the tenant is found the same way;
        // a callback naming no configured tenant is refused outright rather than passed on unchecked.
        var tenant = string.IsNullOrEmpty(tenantId) ? null
            : isCallback ? tenants.All.FirstOrDefault(t => string.Equals(t.Id, tenantId, StringComparison.OrdinalIgnoreCase))
            : tenants.Find(tenantId);
        if (isCallback && tenant is null)
        {
            IpDenied(logger, "-", "signin_callback_unknown_tenant");
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        if (tenant is not null)
        {
            // Every log entry of this request is labelled with its tenant (Cloud Logging labels).
            System.Diagnostics.Activity.Current?.SetTag(CloudLoggingFormatter.TenantTag, tenant.Id);
        }

        if (tenant is null || IpAllowListRules.Allows(tenant.IpAllowList, address))
        {
            await next(context);
            return;
        }

        IpDenied(logger, tenant.Id, isCallback ? "signin_callback" : "agent_request");
        var who = agent ?? new AgentContext(tenant.Id, "-", "unauthenticated", "***", []);
        try
        {
            await audit.RecordAsync(
                AuditEntries.For(RequestContext.Of(context), who, "access.ip_denied", AuditOutcome.Denied, isCallback ? "signin_callback" : "agent_request") with { ClientAddress = address?.ToString() },
                context.RequestAborted);
        }
        catch (AuditUnavailableException ex)
        {
            // The refusal stands; only its record is missing, which operators must see.
            AuditFailed(logger, ex.GetType().Name);
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
    }

    [LoggerMessage(EventId = PortalEvents.IpAllowListDenied, Level = LogLevel.Warning, Message = "Request of tenant {TenantId} refused by its IP allow-list ({Where})")]
    private static partial void IpDenied(ILogger logger, string tenantId, string where);

    [LoggerMessage(EventId = PortalEvents.IpAllowListAuditFailed, Level = LogLevel.Error, Message = "The audit store could not record an IP allow-list refusal ({ErrorType})")]
    private static partial void AuditFailed(ILogger logger, string errorType);
}
