using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Web.Authorization;
using Portal.Web.Features.Actions;
using Portal.Web.Features.Verification;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Console;

public sealed record ConsolePage(string MaskedLogin, IReadOnlyList<string> Tiers, IReadOnlySet<string> Permissions, CallerView? Caller, Refusal? Refusal)
{
    /// <summary>Why no push or code is offered: the tenant's last connection check proved the IdP refuses challenges. Null: offered.</summary>
    public string? VerifyUnavailable { get; init; }

    /// <summary>The agent's actions that the last connection check proved unavailable, each with its one-sentence reason.</summary>
    public IReadOnlyList<(CallerAction Action, string Reason)> UnavailableActions { get; init; } = [];

    /// <summary>The moment the page is drawn, for "35 minutes ago" on the caller card.</summary>
    public DateTimeOffset Now { get; init; }

    /// <summary>The tenant's words for a caller with no usable factor and for escalation.</summary>
    public CallScriptSettings Scripts { get; init; } = new();

    /// <summary>The tenant's IdP kind, so that the card names where its facts come from.</summary>
    public Portal.Idp.IdpKind IdpKind { get; init; }
}

public sealed class ConsoleController(ITenantCatalog tenants, VerificationService verification, TenantConnectionReports connection, TimeProvider clock) : Controller
{
    /// <summary>Sends the agent to the first page their tiers allow.</summary>
    [HttpGet("/")]
    public IActionResult Home()
    {
        var permissions = PermissionsOf();
        return permissions.Contains(Permissions.CallerLookup) ? Redirect("/console")
            : permissions.Contains(Permissions.AuditRead) ? Redirect("/audit")
            : View("NoTier", Page(null, null));
    }

    [HttpGet("/console")]
    [Authorize(Policy = Permissions.CallerLookup)]
    public IActionResult Index() => View(Page(null, null));

    /// <summary>Looks a caller up. A POST, so that the caller's login never lands in a URL, a log line or the history.</summary>
    [HttpPost("/console/lookup")]
    [Authorize(Policy = Permissions.CallerLookup)]
    public async Task<IActionResult> Lookup([FromForm] string? login)
    {
        var agent = AgentContext.From(User)!;
        var tenant = tenants.Find(agent.TenantId)!;
        if (string.IsNullOrWhiteSpace(login) || login.Length > 256)
        {
            return View(nameof(Index), Page(null, new Refusal("invalid_login", "Enter the caller's login or e-mail address.")));
        }

        var (view, refusal) = await verification.LookupAsync(HttpContext, agent, tenant, login.Trim(), HttpContext.RequestAborted);
        return View(nameof(Index), Page(view, refusal));
    }

    private ConsolePage Page(CallerView? caller, Refusal? refusal)
    {
        var agent = AgentContext.From(User)!;
        var permissions = PermissionsOf();
        var verify = connection.Latest(agent.TenantId)?.For(Portal.Idp.IdpOperation.VerifyFactors);
        return new ConsolePage(agent.MaskedLogin, agent.Tiers, permissions, caller, refusal)
        {
            Now = clock.GetUtcNow(),
            IdpKind = tenants.Find(agent.TenantId)?.Idp.Kind ?? Portal.Idp.IdpKind.Okta,
            Scripts = tenants.Find(agent.TenantId)?.CallScripts ?? new(),
            VerifyUnavailable = verify is { State: Portal.Idp.CapabilityState.Unavailable } ? verify.Reason : null,
            UnavailableActions = [.. CallerAction.All
                .Where(a => permissions.Contains(a.Permission))
                .Select(a => (Action: a, Reason: connection.WhyUnavailable(agent.TenantId, a)))
                .Where(a => a.Reason is not null)
                .Select(a => (a.Action, a.Reason!))],
        };
    }

    private HashSet<string> PermissionsOf()
    {
        var agent = AgentContext.From(User);
        var tenant = agent is null ? null : tenants.Find(agent.TenantId);
        return agent is null || tenant is null ? [] : PermissionHandler.PermissionsOf(tenant, agent.Tiers);
    }
}
