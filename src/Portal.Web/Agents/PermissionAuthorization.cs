using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Portal.Audit;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Agents;

/// <summary>The agent must hold <see cref="Permission"/> through one of their tiers in their own tenant.</summary>
internal sealed record PermissionRequirement(string Permission) : IAuthorizationRequirement;

/// <summary>
/// Grants a permission when one of the agent's tiers holds it in the tenant's current tier definitions,
/// so a tier edited by a tenant admin takes effect on the next request.
/// </summary>
internal sealed class PermissionHandler(ITenantCatalog tenants) : AuthorizationHandler<PermissionRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PermissionRequirement requirement)
    {
        var agent = AgentContext.From(context.User);
        var tenant = agent is null ? null : tenants.Find(agent.TenantId);
        if (agent is not null && tenant is not null && PermissionsOf(tenant, agent.Tiers).Contains(requirement.Permission))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// What an agent's tiers grant. Separation of duties (F5, docs/tenancy.md): whoever holds an admin permission
    /// holds no caller or action permission, even when their groups map them to an admin tier and a helpdesk tier
    /// at once, so a tenant admin can never grant themself the power to verify a caller and act on the account.
    /// </summary>
    public static HashSet<string> PermissionsOf(TenantSettings tenant, IEnumerable<string> tierNames)
    {
        var held = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tier in tenant.EffectiveTiers().Where(t => tierNames.Contains(t.Name, StringComparer.Ordinal)))
        {
            held.UnionWith(tier.Permissions);
        }

        if (held.Any(Permissions.IsAdmin))
        {
            held.RemoveWhere(Permissions.IsCallerOrAction);
        }

        return held;
    }
}

/// <summary>Registers one policy per permission, named as the permission.</summary>
internal static class PermissionPolicies
{
    public static void AddPermissionPolicies(this AuthorizationOptions options)
    {
        foreach (var permission in Permissions.All)
        {
            options.AddPolicy(permission, p => p.RequireAuthenticatedUser().AddRequirements(new PermissionRequirement(permission)));
        }

        // Every route needs a signed-in agent unless it says otherwise ([AllowAnonymous]).
        options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
    }
}

/// <summary>Audits every refusal of a signed-in agent (docs/security-requirements.md D2: denied access is a security event).</summary>
internal sealed class AuditingAuthorizationResultHandler(IAuditTrail audit, ILogger<AuditingAuthorizationResultHandler> logger) : IAuthorizationMiddlewareResultHandler
{
    /// <summary>The <see cref="HttpContext.Items"/> key of the permission a refused request lacked.</summary>
    public const string MissingPermissionItem = "Portal.MissingPermission";

    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden && AgentContext.From(context.User) is { } agent)
        {
            var missing = authorizeResult.AuthorizationFailure?.FailedRequirements.OfType<PermissionRequirement>().Select(r => r.Permission).FirstOrDefault();
            if (missing is not null)
            {
                // For the refusal page (rendered by re-executing /error/403 on this same request): which permission, in words.
                context.Items[MissingPermissionItem] = missing;
            }

            try
            {
                await audit.RecordAsync(AuditEntries.For(RequestContext.Of(context), agent, "access.denied", AuditOutcome.Denied, missing is null ? "forbidden" : "missing:" + missing), context.RequestAborted);
            }
            catch (AuditUnavailableException ex)
            {
                // The refusal stands either way; only its record is missing, which operators must see.
                PortalLog.AuditWriteFailed(logger, ex.GetType().Name);
            }
        }

        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
