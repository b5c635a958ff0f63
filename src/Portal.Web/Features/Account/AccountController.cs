using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Audit;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification;

namespace Portal.Web.Features.Account;

public sealed record SignInPage(IReadOnlyList<TenantSettings> Tenants, TenantSettings? Found, string? Message);

[Route("account")]
public sealed class AccountController(ITenantCatalog tenants) : Controller
{
    [HttpGet("signin")]
    [AllowAnonymous]
    public IActionResult SignIn(int? failed, int? signedout, [FromServices] Microsoft.Extensions.Options.IOptions<WebOptions> web)
    {
        var endedByCap = Request.Cookies[AgentSignIn.EndedByCapCookie] == AgentSignIn.EndedByCapValue;
        if (Request.Cookies.ContainsKey(AgentSignIn.EndedByCapCookie))
        {
            // Said once: a reload, or the next sign-out, is not told it again.
            Response.Cookies.Delete(AgentSignIn.EndedByCapCookie, new CookieOptions { Path = "/" });
        }

        return View(Page(null, failed switch
        {
            1 => "Sign-in did not complete. Your organisation requires multi-factor sign-in for helpdesk agents.",
            2 => "Sign-in could not start: your organisation's identity provider refused the portal or could not be reached. Try again later or tell your administrator.",
            _ when endedByCap => SessionCapMessage(web.Value.MaxSessionsPerAgent),
            _ => signedout == 1 ? "You are signed out." : null,
        }));
    }

    /// <summary>
    /// What a window whose session the cap ended is told (docs/security-model.md, "Session cap"): why, and what to do. It
    /// names nothing of the other sessions: not where, when or from which address.
    /// </summary>
    internal static string SessionCapMessage(int maxSessions) =>
        $"You were signed out here because you signed in elsewhere: an agent may have at most {maxSessions} "
        + (maxSessions == 1 ? "session" : "sessions")
        + " at once, and this one was the least recently used. Any verification open in this window has ended. Sign in again to go on here. "
        + "If you did not sign in elsewhere, tell your security team.";

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
    public async Task<IActionResult> Start(string tenantId, [FromServices] ILogger<AccountController> logger)
    {
        var tenant = tenants.Find(tenantId);
        if (tenant is null)
        {
            return NotFound();
        }

        try
        {
            // Run here rather than as a ChallengeResult, so that a challenge-time failure (discovery unreachable, a PAR
            // endpoint answering invalid_client) is caught and shown on the sign-in failure page, never as a 500.
            await HttpContext.ChallengeAsync(AgentSignIn.SchemeFor(tenant.Id), new AuthenticationProperties { RedirectUri = "/" });
            return new EmptyResult();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !HttpContext.RequestAborted.IsCancellationRequested)
        {
            PortalLog.SignInRefused(logger, tenant.Id, "challenge_failed:" + ex.GetType().Name);
            Response.Clear();
            return Redirect("/account/signin?failed=2");
        }
    }

    [HttpPost("signout")]
    public async Task<IActionResult> SignOutAgent([FromServices] AgentSessionStore sessions, [FromServices] VerificationStore verifications, [FromServices] IAuditTrail audit)
    {
        if (AgentContext.From(User) is { } agent)
        {
            // S3/V5: sign-out ends the agent session and every verification it holds, on every instance.
            await verifications.EndSessionsOfAgentSessionAsync(agent.TenantId, agent.SessionId, HttpContext.RequestAborted);
            await sessions.EndAsync(agent.TenantId, agent.SessionId, HttpContext.RequestAborted);
            await audit.RecordAsync(AuditEntries.For(RequestContext.Of(HttpContext), agent, "agent.signout", AuditOutcome.Succeeded), HttpContext.RequestAborted);
        }

        await HttpContext.SignOutAsync(AgentSignIn.CookieScheme);
        if (AgentContext.From(User) is { } signedOut && tenants.Find(signedOut.TenantId) is { } tenant && await HasEndSessionAsync(tenant))
        {
            // RP-initiated logout: the IdP ends its own session too, so "Sign in" right after goes through the IdP again.
            await HttpContext.SignOutAsync(AgentSignIn.SchemeFor(tenant.Id), new AuthenticationProperties { RedirectUri = "/account/signin?signedout=1" });

            // Not a redirect to the IdP: the browser applies the CSP's form-action 'self' to every hop of this form's
            // navigation and would refuse it. A same-origin page navigates there by GET, as the step-up code form does
            // (docs/security-decisions.md).
            if (Uri.TryCreate(Response.Headers.Location.ToString(), UriKind.Absolute, out var endSession))
            {
                Response.Headers.Remove("Location");
                Response.StatusCode = StatusCodes.Status200OK;
                Response.Headers.CacheControl = "no-store";
                return View("SigningOut", endSession);
            }

            return new EmptyResult();
        }

        Response.Cookies.Delete(AgentSignIn.IdTokenCookie, new CookieOptions { Path = "/" });
        return Redirect("/account/signin?signedout=1");
    }

    /// <summary>Whether the tenant's authority publishes an end_session_endpoint; an unreachable one means local sign-out only.</summary>
    private async Task<bool> HasEndSessionAsync(TenantSettings tenant)
    {
        var options = HttpContext.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.AspNetCore.Authentication.OpenIdConnect.OpenIdConnectOptions>>().Get(AgentSignIn.SchemeFor(tenant.Id));
        try
        {
            var configuration = await options.ConfigurationManager!.GetConfigurationAsync(HttpContext.RequestAborted);
            return !string.IsNullOrEmpty(configuration.EndSessionEndpoint);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    [HttpGet("denied")]
    [AllowAnonymous]
    public IActionResult Denied()
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return View();
    }
}
