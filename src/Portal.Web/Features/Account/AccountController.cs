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
        View(new SignInPage(tenants.All, null, failed == 1 ? "Sign-in did not complete. Your organisation requires multi-factor sign-in for helpdesk agents." : signedout == 1 ? "You are signed out." : null));

    /// <summary>Finds the organisation by the agent's e-mail domain; the address itself is not kept or echoed.</summary>
    [HttpPost("find")]
    [AllowAnonymous]
    public IActionResult Find([FromForm] string? email)
    {
        var at = email?.LastIndexOf('@') ?? -1;
        var found = at >= 0 ? tenants.FindByEmailDomain(email![(at + 1)..].Trim()) : null;
        return View(nameof(SignIn), new SignInPage(tenants.All, found, found is null ? "No organisation uses that e-mail domain." : null));
    }

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
