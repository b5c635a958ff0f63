using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Web.Authorization;
using Portal.Web.Features.Verification;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Console;

public sealed record ConsolePage(string MaskedLogin, IReadOnlyList<string> Tiers, IReadOnlySet<string> Permissions, CallerView? Caller, Refusal? Refusal);

public sealed class ConsoleController(ITenantCatalog tenants, VerificationService verification) : Controller
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
        return new ConsolePage(agent.MaskedLogin, agent.Tiers, PermissionsOf(), caller, refusal);
    }

    private HashSet<string> PermissionsOf()
    {
        var agent = AgentContext.From(User);
        var tenant = agent is null ? null : tenants.Find(agent.TenantId);
        return agent is null || tenant is null ? [] : PermissionHandler.PermissionsOf(tenant, agent.Tiers);
    }
}
