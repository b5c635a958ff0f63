using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification;
using Portal.Web.Verification.Actions;

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

    /// <summary>The tenant's heightened-threat mode: while it is on, the methods below its floor are not offered (docs/tenancy.md).</summary>
    public HeightenedModeSettings HeightenedMode { get; init; } = new();

    /// <summary>The tenant's IdP kind, so that the card names where its facts come from.</summary>
    public Portal.Idp.IdpKind IdpKind { get; init; }

    /// <summary>For a caller who needs a second agent's approval: each action the agent may take and its approval asked for at look-up.</summary>
    public IReadOnlyList<ApprovalBeforeVerifying> Approvals { get; init; } = [];

    /// <summary>The names of the agents who decided those approvals, read at view time.</summary>
    public IReadOnlyDictionary<string, AgentName> Deciders { get; init; } = new Dictionary<string, AgentName>();

    /// <summary>A one-line confirmation of what the agent just did on this page (asked for an approval).</summary>
    public string? Message { get; init; }
}

public sealed class ConsoleController(ITenantCatalog tenants, VerificationService verification, ApprovalsBeforeVerifying approvalsAhead, TenantConnectionReports connection, TimeProvider clock) : AgentController
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
        var agent = Current.Agent;
        var tenant = Current.Tenant;
        if (string.IsNullOrWhiteSpace(login) || login.Length > 256)
        {
            return View(nameof(Index), Page(null, new Refusal("invalid_login", "Enter the caller's login or e-mail address.")));
        }

        var (view, refusal) = await verification.LookupAsync(Current, login.Trim(), HttpContext.RequestAborted);
        return View(nameof(Index), await WithApprovalsAsync(Page(view, refusal), null));
    }

    /// <summary>
    /// "Verify by a second method" on the page of an executive target verified once (docs/tenancy.md, "Executive targets:
    /// two independent methods"): the console's page of the same caller, looked up again, whose method forms carry that
    /// verification (<c>priorVerificationId</c>) and offer only the other methods. A POST that renders, as the look-up
    /// does: the caller's login stays out of URLs, and the verification must be this agent session's own and live.
    /// </summary>
    [HttpPost("/console/second")]
    [Authorize(Policy = Permissions.CallerVerify)]
    public async Task<IActionResult> SecondMethod([FromForm] string? verificationId)
    {
        if (!VerificationId.TryParse(verificationId, out var id))
        {
            Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
            return View(nameof(Index), Page(null, new Refusal("no_verification", "This verification has expired or is not yours. Verify the caller again.")));
        }

        var (view, refusal) = await verification.LookupForSecondMethodAsync(Current, id, HttpContext.RequestAborted);
        if (view is null)
        {
            Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
        }

        return View(nameof(Index), await WithApprovalsAsync(Page(view, refusal), null));
    }

    /// <summary>
    /// Asks a colleague for the approval of one action on a privileged caller before verifying them, then shows the
    /// caller again. A POST that renders, as the look-up does (the caller's login stays out of URLs); sending it twice
    /// asks once.
    /// </summary>
    [HttpPost("/console/approval")]
    [Authorize(Policy = Permissions.CallerVerify)]
    public async Task<IActionResult> AskApproval([FromForm] string? callerRef, [FromForm] string? actionName)
    {
        var agent = Current.Agent;
        var tenant = Current.Tenant;
        var (login, refusal) = await approvalsAhead.AskAsync(Current, PermissionsOf(), callerRef, actionName, HttpContext.RequestAborted);
        if (login is null)
        {
            Response.StatusCode = refusal?.Code is "not_permitted" ? StatusCodes.Status403Forbidden : StatusCodes.Status422UnprocessableEntity;
            return View(nameof(Index), Page(null, refusal));
        }

        var (view, lookupRefusal) = await verification.LookupAsync(Current, login, HttpContext.RequestAborted);
        var title = CallerAction.All.First(a => a.Name == actionName).Title;
        return View(nameof(Index), await WithApprovalsAsync(Page(view, lookupRefusal), $"Asked for a colleague's approval of {title}. Verify the caller meanwhile; the approval waits in the approval queue."));
    }

    private async Task<ConsolePage> WithApprovalsAsync(ConsolePage page, string? message)
    {
        if (page.Caller is not { Privilege: PrivilegeState.Privileged or PrivilegeState.Unknown } caller)
        {
            return page with { Message = message };
        }

        var agent = Current.Agent;
        var tenant = Current.Tenant;
        var approvals = (await approvalsAhead.ForCallerAsync(agent, tenant, page.Permissions, caller.CallerRef, HttpContext.RequestAborted))
            .Where(a => Offered(a.Action, caller, page))
            .ToList();
        return page with { Message = message, Approvals = approvals, Deciders = await approvalsAhead.DecidersAsync(tenant, approvals, HttpContext.RequestAborted) };
    }

    /// <summary>Only what could work is offered for an approval: no unlock of an account that is not locked out, no password reset of a synced one, nothing the connection check found unavailable.</summary>
    private static bool Offered(CallerAction action, CallerView caller, ConsolePage page) =>
        !(action == CallerAction.Unlock && caller.Status != Portal.Idp.CallerStatus.LockedOut)
        && !(action == CallerAction.PasswordReset && caller.DirectorySynced)
        && !page.UnavailableActions.Any(u => u.Action == action);

    private ConsolePage Page(CallerView? caller, Refusal? refusal)
    {
        // The landing page is open to any signed-in agent, also one whose tenant has since been removed: no tier, no error.
        var agent = AgentContext.From(User)!;
        var permissions = PermissionsOf();
        var verify = connection.Latest(agent.TenantId)?.For(Portal.Idp.IdpOperation.VerifyFactors);
        return new ConsolePage(agent.MaskedLogin, agent.Tiers, permissions, caller, refusal)
        {
            Now = clock.GetUtcNow(),
            IdpKind = tenants.Find(agent.TenantId)?.Idp.Kind ?? Portal.Idp.IdpKind.Okta,
            Scripts = tenants.Find(agent.TenantId)?.CallScripts ?? new(),
            HeightenedMode = tenants.Find(agent.TenantId)?.HeightenedMode ?? new(),
            VerifyUnavailable = verify is { State: Portal.Idp.CapabilityState.Unavailable } ? verify.Reason : null,
            UnavailableActions = [.. CallerAction.All
                .Where(a => permissions.Contains(a.Permission))
                .Select(a => (Action: a, Reason: connection.WhyUnavailable(agent.TenantId, a.Operation)))
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
