using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;
using Portal.Audit;

namespace Portal.Web.Infrastructure;

/// <summary>CIDR parsing and matching for the per-tenant allow-list (docs/security-requirements.md A4).</summary>
public static class IpAllowListRules
{
    /// <summary>Strict CIDR: the address must be the network's own (no host bits), so what is saved is what is meant.</summary>
    public static bool TryParseNetwork(string? text, out IPNetwork network)
    {
        network = default;
        var value = text?.Trim();
        var slash = value?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (value is null || value.Length > 64 || slash < 1
            || !IPAddress.TryParse(value.AsSpan(0, slash), out var address) || !IPNetwork.TryParse(value, out network))
        {
            return false;
        }

        // "203.0.113.5/24" is refused rather than read as 203.0.113.0/24: the admin must write what they mean.
        return network.BaseAddress.Equals(address);
    }

    /// <summary>An empty list allows every address (documented in docs/tenancy.md); otherwise the address must fall in one network.</summary>
    public static bool Allows(IReadOnlyList<string> allowList, IPAddress? address)
    {
        if (allowList.Count == 0)
        {
            return true;
        }

        if (address is null)
        {
            // An unknown client address cannot be shown to be inside the list: fail closed.
            return false;
        }

        var normalised = Normalise(address);
        foreach (var entry in allowList)
        {
            if (TryParseNetwork(entry, out var network) && network.Contains(normalised))
            {
                return true;
            }
        }

        return false;
    }

    public static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}

/// <summary>
/// Enforces the tenant's allow-list (docs/security-requirements.md A4) on every request of a signed-in agent (their tenant's
/// list) and on the sign-in callback <c>/signin-oidc/{tenantId}</c> (that tenant's list, before the code is
/// redeemed). Runs just before the authentication middleware and authenticates the cookie itself; the
/// result is cached for the request, so the cookie is validated once.
/// </summary>
internal sealed partial class IpAllowListMiddleware(RequestDelegate next, ClientAddressResolver resolver, ITenantCatalog tenants, ILogger<IpAllowListMiddleware> logger)
{
    private static readonly PathString CallbackPrefix = new("/signin-oidc");

    public async Task InvokeAsync(HttpContext context, IAuditTrail audit)
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
                AuditEntries.For(context, who, "access.ip_denied", AuditOutcome.Denied, isCallback ? "signin_callback" : "agent_request") with { ClientAddress = address?.ToString() },
                context.RequestAborted);
        }
        catch (AuditUnavailableException ex)
        {
            // The refusal stands; only its record is missing, which operators must see.
            AuditFailed(logger, ex.GetType().Name);
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
    }

    [LoggerMessage(EventId = 1111, Level = LogLevel.Warning, Message = "Request of tenant {TenantId} refused by its IP allow-list ({Where})")]
    private static partial void IpDenied(ILogger logger, string tenantId, string where);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Error, Message = "The audit store could not record an IP allow-list refusal ({ErrorType})")]
    private static partial void AuditFailed(ILogger logger, string errorType);
}
