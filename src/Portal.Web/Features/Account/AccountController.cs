using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Audit;
using Portal.Web.Features.Verification;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Account;

public sealed record SignInPage(IReadOnlyList<TenantSettings> Tenants, TenantSettings? Found, string? Message);

[Route("account")]
public sealed class AccountController(ITenantCatalog tenants) : Controller
{
    [HttpGet("signin")]
    [AllowAnonymous]
    public IActionResult SignIn(int? failed, int? signedout) =>
        View(Page(null, failed == 1 ? "Sign-in did not complete. Your organisation requires multi-factor sign-in for helpdesk agents." : signedout == 1 ? "You are signed out." : null));

    /// <summary>
    /// Finds the organisation by the agent's e-mail domain or by its name; what was typed is not kept or echoed.
    /// </summary>
    [HttpPost("find")]
    [AllowAnonymous]
    public IActionResult Find([FromForm] string? organisation)
    {
        var text = (organisation ?? "").Trim();
        var at = text.LastIndexOf('@');
        var found = at >= 0
            ? tenants.FindByEmailDomain(text[(at + 1)..])
            : tenants.All.FirstOrDefault(t => text.Length > 0 && (string.Equals(t.DisplayName, text, StringComparison.OrdinalIgnoreCase) || string.Equals(t.Id, text, StringComparison.OrdinalIgnoreCase)));
        return View(nameof(SignIn), Page(found, found is null ? "No organisation matches. Use your work e-mail address or your organisation's exact name." : null));
    }

    /// <summary>
    /// The list of organisations is shown only in the demo: in a real deployment it would tell anyone who
    /// the portal's customers are.
    /// </summary>
    private SignInPage Page(TenantSettings? found, string? message) =>
        new(HttpContext.RequestServices.GetService<DemoInfo>() is null ? [] : tenants.All, found, message);

    /// <summary>Starts the tenant's OIDC sign-in. The tenant named here only picks the IdP; the session's tenant is the one whose issuer signs the token.</summary>
    [HttpGet("signin/{tenantId}")]
    [AllowAnonymous]
    public IActionResult Start(string tenantId)
    {
        var tenant = tenants.Find(tenantId);
        return tenant is null
            ? NotFound()
            : Challenge(new AuthenticationProperties { RedirectUri = "/" }, AgentSignIn.SchemeFor(tenant.Id));
    }

    [HttpPost("signout")]
    public async Task<IActionResult> SignOutAgent([FromServices] AgentSessionStore sessions, [FromServices] VerificationStore verifications, [FromServices] IAuditTrail audit)
    {
        if (AgentContext.From(User) is { } agent)
        {
            // S3/V5: sign-out ends the agent session and every verification it holds, on every instance.
            await verifications.EndSessionsOfAgentSessionAsync(agent.TenantId, agent.SessionId, HttpContext.RequestAborted);
            await sessions.EndAsync(agent.TenantId, agent.SessionId, HttpContext.RequestAborted);
            await audit.RecordAsync(AuditEntries.For(HttpContext, agent, "agent.signout", AuditOutcome.Succeeded), HttpContext.RequestAborted);
        }

        await HttpContext.SignOutAsync(AgentSignIn.CookieScheme);
        return Redirect("/account/signin?signedout=1");
    }

    [HttpGet("denied")]
    [AllowAnonymous]
    public IActionResult Denied()
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return View();
    }
}
