using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Idp;
using Portal.Web.Authorization;
using Portal.Web.Features.Actions;
using Portal.Web.Features.StepUp;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Verification;

public sealed record PendingPage(
    string Id, string CallerMaskedLogin, int CorrectAnswer, ChallengeState State, DateTimeOffset ExpiresAt, string? VerificationSessionId, Refusal? Refusal,
    string Method = VerificationMethods.OktaPush, string? FailureReason = null, Uri? StepUpLink = null, string? StepUpCode = null);

public sealed record SessionPage(string Id, string CallerMaskedLogin, string Method, DateTimeOffset VerifiedAt, DateTimeOffset ExpiresAt, IReadOnlyList<CallerAction> Actions, IReadOnlyCollection<string> UsedActions)
{
    /// <summary>Why password reset is not offered (a directory-synced caller); null when it is.</summary>
    public string? PasswordResetNote { get; init; }
}

[Route("verification")]
[Authorize(Policy = Permissions.CallerVerify)]
public sealed class VerificationController(ITenantCatalog tenants, VerificationService verification, StepUpService stepUp) : Controller
{
    /// <summary>
    /// Starts a step-up sign-in. The link and its short code are shown in this response only (never stored), then
    /// the page polls like a push.
    /// </summary>
    [HttpPost("stepup")]
    public async Task<IActionResult> StartStepUp([FromForm] string? callerRef, [FromForm] string? factorId)
    {
        var (agent, tenant) = Agent();
        var (started, refusal) = await stepUp.StartAsync(HttpContext, agent, tenant, callerRef, factorId, HttpContext.RequestAborted);
        if (started is null)
        {
            return Refused(refusal!);
        }

        var pending = await verification.GetPendingAsync(agent, started.PendingId, HttpContext.RequestAborted);
        return View(nameof(Pending), ToPage(pending!, null) with { StepUpLink = started.Link, StepUpCode = started.ShortCode });
    }

    [HttpPost("push")]
    public async Task<IActionResult> StartPush([FromForm] string? callerRef, [FromForm] string? factorId)
    {
        var (agent, tenant) = Agent();
        var (pendingId, refusal) = await verification.StartPushAsync(HttpContext, agent, tenant, callerRef, factorId ?? "", HttpContext.RequestAborted);
        return pendingId is null ? Refused(refusal!) : Redirect($"/verification/pending/{pendingId}");
    }

    /// <summary>
    /// <c>entra.push</c>: the request stays open until the caller answers on their phone (about a minute at most), then
    /// goes to the verification session, or to the finished push's page when it was denied or not answered.
    /// </summary>
    [HttpPost("entrapush")]
    public async Task<IActionResult> StartEntraPush([FromForm] string? callerRef, [FromForm] string? factorId)
    {
        var (agent, tenant) = Agent();
        var (sessionId, finished, refusal) = await verification.StartEntraPushAsync(HttpContext, agent, tenant, callerRef, factorId ?? "", HttpContext.RequestAborted);
        if (sessionId is not null)
        {
            return Redirect($"/verification/session/{sessionId}");
        }

        return finished is not null ? Redirect($"/verification/pending/{finished.Id}") : Refused(refusal!);
    }

    [HttpGet("pending/{id}")]
    public async Task<IActionResult> Pending(string id)
    {
        var (agent, _) = Agent();
        var pending = await verification.GetPendingAsync(agent, id, HttpContext.RequestAborted);
        return pending is null ? NotFound() : View(ToPage(pending, null));
    }

    /// <summary>
    /// Polled by the pending page's script (and its no-script button). A POST with an antiforgery token:
    /// polling can open a verification session, which is a change of state.
    /// </summary>
    [HttpPost("pending/{id}/poll")]
    public async Task<IActionResult> Poll(string id)
    {
        var (agent, tenant) = Agent();
        var (pending, refusal) = await verification.PollAsync(HttpContext, agent, tenant, id, HttpContext.RequestAborted);
        if (pending is null)
        {
            return NotFound();
        }

        var page = ToPage(pending, refusal);
        if (Request.Headers.Accept.ToString().Contains("application/json", StringComparison.Ordinal))
        {
            return Json(new
            {
                state = page.State.ToString(),
                message = refusal?.Message,
                next = page.VerificationSessionId is null ? null : $"/verification/session/{page.VerificationSessionId}",
            });
        }

        return page.VerificationSessionId is not null ? Redirect($"/verification/session/{page.VerificationSessionId}") : View(nameof(Pending), page);
    }

    [HttpPost("totp")]
    public async Task<IActionResult> VerifyTotp([FromForm] string? callerRef, [FromForm] string? factorId, [FromForm] string? code)
    {
        var (agent, tenant) = Agent();
        var (sessionId, refusal) = await verification.VerifyTotpAsync(HttpContext, agent, tenant, callerRef, factorId ?? "", code, HttpContext.RequestAborted);
        return sessionId is null ? Refused(refusal!) : Redirect($"/verification/session/{sessionId}");
    }

    [HttpGet("session/{id}")]
    public async Task<IActionResult> Session(string id)
    {
        var (agent, tenant) = Agent();
        var session = await verification.GetSessionAsync(agent, id, HttpContext.RequestAborted);
        if (session is null)
        {
            return Refused(new Refusal("no_verification", "This verification has expired or is not yours. Verify the caller again."), StatusCodes.Status404NotFound);
        }

        var held = PermissionHandler.PermissionsOf(tenant, agent.Tiers);
        var actions = CallerAction.All.Where(a => held.Contains(a.Permission)).ToList();
        string? note = null;
        if (actions.Contains(CallerAction.PasswordReset) && await verification.IsDirectorySyncedAsync(tenant, session, HttpContext.RequestAborted))
        {
            // Graph refuses a cloud password for a synced user: offer what works instead of a reset that fails.
            actions.Remove(CallerAction.PasswordReset);
            note = CallerView.SyncedPasswordNote;
        }

        return View(new SessionPage(session.Id, session.CallerMaskedLogin, session.Method, session.VerifiedAt, session.ExpiresAt, actions, session.UsedActions.ToHashSet()) { PasswordResetNote = note });
    }

    private static PendingPage ToPage(PendingVerification p, Refusal? refusal) =>
        new(p.Id, p.CallerMaskedLogin, p.CorrectAnswer, p.State, p.ExpiresAt, p.VerificationSessionId, refusal, p.Method, p.FailureReason);

    private ViewResult Refused(Refusal refusal, int status = StatusCodes.Status422UnprocessableEntity)
    {
        Response.StatusCode = status;
        return View("Refused", refusal);
    }

    private (AgentContext Agent, TenantSettings Tenant) Agent()
    {
        var agent = AgentContext.From(User)!;
        return (agent, tenants.Find(agent.TenantId)!);
    }
}
