using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification;
using Portal.Web.Verification.Actions;

namespace Portal.Web.Features.Actions;

/// <summary>
/// An action's result page: the outcome, or the refusal in words. <see cref="SecretShownBefore"/> is the label of the
/// one-time secret (e.g. "Temporary password") when the page is seen again (F5, Back) after that secret was shown, so
/// the page can name what is no longer there to show; null when no secret was shown.
/// </summary>
public sealed record ActionPage(CallerAction Action, string VerificationId, ActionOutcome? Outcome, string? RefusalMessage, string? SecretShownBefore = null)
{
    /// <summary>For an action waiting for a second agent: where that approval stands now (null otherwise).</summary>
    public ApprovalProgress? Approval { get; init; }
}

/// <summary>Where the approval of a privileged-target action stands, read live for the requester's result page.</summary>
public sealed record ApprovalProgress(ApprovalState? State, string? Decider, string StateUrl)
{
    /// <summary>What the page's script compares to notice a decision: the state's name, or "gone" once the request ended.</summary>
    public string Watched => State?.ToString() ?? "gone";
}

/// <summary>
/// What an action POST hands to its result page through the agent's browser (<see cref="BrowserHandover"/>): nothing of
/// it is stored. The secret is dropped from the browser the first time the page shows it.
/// </summary>
public sealed record ActionResultHandover(
    string Action,
    string VerificationId,
    int Status,
    bool Succeeded,
    bool Partial,
    string Message,
    string? RefusalCode,
    string? Secret,
    string? SecretLabel,
    DateTimeOffset? SecretExpiresAt,
    bool SecretShown,
    bool? NoticeSent = null,
    string? NoticeMessage = null)
{
    public override string ToString() => $"ActionResultHandover {{ Action = {Action}, Status = {Status}, Secret = {(Secret is null ? "none" : "[redacted]")} }}";
}

/// <summary>
/// One route per action, each with its own permission policy, so the permission matrix can be read from the
/// endpoint table. Every route also needs a live verification (checked in <see cref="ActionService"/>).
/// </summary>
[Route("actions")]
public sealed class ActionsController(ITenantCatalog tenants, ActionService actions, ApprovalStore approvals, VerificationStore verifications, AgentNames agentNames, BrowserHandover handover, TimeProvider clock) : AgentController
{
    private const string ResultPurpose = "action-result";
    private static readonly TimeSpan TemporaryAccessLifetime = TimeSpan.FromHours(1);

    // Long enough to read the result and come back to it within the call; the verification itself lasts ten minutes.
    private static readonly TimeSpan ResultLifetime = TimeSpan.FromMinutes(15);

    [HttpPost("password-reset")]
    [Authorize(Policy = Permissions.PasswordReset)]
    public Task<IActionResult> PasswordReset([FromForm] string? verificationId, [FromForm] string? ticketRef, [FromForm] PasswordResetKind kind = PasswordResetKind.SendEmail) =>
        RunAsync(CallerAction.PasswordReset, verificationId, ticketRef, async (directory, callerId, ct) =>
        {
            var result = await directory.ResetPasswordAsync(callerId, kind, ct);
            return !result.IsSuccess ? result.Error : IdpResult<ActionOutcome>.Success(result.Value.Kind switch
            {
                PasswordResetKind.OneTimeLink => new ActionOutcome(true, "The password was reset. Copy the one-time reset link to the caller now (never read a link aloud); it is not shown again.", result.Value.OneTimeSecret, "One-time reset link"),
                PasswordResetKind.TemporaryPassword => new ActionOutcome(true, "The password was reset. Read the temporary password to the caller now; they must change it at sign-in. It is not shown again.", result.Value.OneTimeSecret, "Temporary password"),
                _ => new ActionOutcome(true, "The password was reset. The caller has been e-mailed a reset link."),
            });
        });

    [HttpPost("revoke-sessions")]
    [Authorize(Policy = Permissions.SessionsRevoke)]
    public Task<IActionResult> RevokeSessions([FromForm] string? verificationId, [FromForm] string? ticketRef, [FromForm] bool confirmed = false) =>
        !confirmed ? Task.FromResult<IActionResult>(NotConfirmed(CallerAction.RevokeSessions, verificationId, "Tick that the caller knows they will be signed out on every device, then submit again. Nothing was changed.")) : RunAsync(CallerAction.RevokeSessions, verificationId, ticketRef, async (directory, callerId, ct) =>
        {
            var result = await directory.RevokeSessionsAsync(callerId, ct);
            return result.IsSuccess ? IdpResult<ActionOutcome>.Success(new ActionOutcome(true, "Every session of the caller was ended.")) : result.Error;
        });

    [HttpPost("unlock")]
    [Authorize(Policy = Permissions.AccountUnlock)]
    public Task<IActionResult> Unlock([FromForm] string? verificationId, [FromForm] string? ticketRef) =>
        RunAsync(CallerAction.Unlock, verificationId, ticketRef, async (directory, callerId, ct) =>
        {
            var result = await directory.UnlockAsync(callerId, ct);
            return result.IsSuccess ? IdpResult<ActionOutcome>.Success(new ActionOutcome(true, "The account was unlocked.")) : result.Error;
        });

    [HttpPost("reset-factors")]
    [Authorize(Policy = Permissions.MfaReset)]
    public Task<IActionResult> ResetFactors([FromForm] string? verificationId, [FromForm] string? ticketRef, [FromForm] bool confirmed = false) =>
        !confirmed ? Task.FromResult<IActionResult>(NotConfirmed(CallerAction.ResetFactors, verificationId, "Tick that the caller knows every factor will be removed and they must enrol again, then submit again. Nothing was changed.")) : RunAsync(CallerAction.ResetFactors, verificationId, ticketRef, async (directory, callerId, ct) =>
        {
            var result = await directory.ResetFactorsAsync(callerId, ct);
            return result.IsSuccess ? IdpResult<ActionOutcome>.Success(FactorResetMessage(result.Value)) : result.Error;
        });

    [HttpPost("temporary-access")]
    [Authorize(Policy = Permissions.TapIssue)]
    public Task<IActionResult> TemporaryAccess([FromForm] string? verificationId, [FromForm] string? ticketRef) =>
        RunAsync(CallerAction.TemporaryAccess, verificationId, ticketRef, async (directory, callerId, ct) =>
        {
            var result = await directory.IssueTemporaryAccessAsync(callerId, TemporaryAccessLifetime, usableOnce: true, ct);
            return result.IsSuccess
                ? IdpResult<ActionOutcome>.Success(new ActionOutcome(true, "A single-use temporary access code was issued. Read it to the caller now; it is not shown again.", result.Value.Value, "Temporary access code", result.Value.ExpiresAt))
                : result.Error;
        });

    /// <summary>
    /// Says exactly what an MFA reset removed and what remains, to the agent and in the audit record (no device names
    /// or numbers: the kinds only). A reset that left methods is partial, not a success and not a failure.
    /// </summary>
    internal static ActionOutcome FactorResetMessage(FactorResetOutcome outcome)
    {
        var removed = string.Join(", ", outcome.Removed);
        if (!outcome.IsPartial)
        {
            return outcome.Removed.Count == 0
                ? new ActionOutcome(true, "Every MFA factor was removed; the caller will enrol again at next sign-in.")
                : new ActionOutcome(true, $"Every MFA method was removed ({removed}); the caller will register again at next sign-in.") { AuditReason = "removed: " + removed };
        }

        var remaining = string.Join(", ", outcome.Remaining);
        return new ActionOutcome(false, $"Partly done. Removed: {removed}. Still registered: {remaining} (the identity provider refused: {outcome.StoppedBy}). The caller can still sign in with what remains; remove it in the Entra admin center or try again.")
        {
            AuditAs = AuditOutcome.Partial,
            AuditReason = $"removed: {removed}; remaining: {remaining}; refused: {outcome.StoppedBy}",
        };
    }

    /// <summary>
    /// The result of an action, once posted (Post/Redirect/Get): answered with the status of the outcome itself (200, or
    /// the refusal's 403/502). The one-time secret is shown on the first view only; F5 or Back shows the outcome
    /// without it and posts nothing again. Another browser or agent session, or the page after its lifetime, reads 404.
    /// </summary>
    [HttpGet("result/{id}")]
    [Authorize(Policy = Permissions.CallerVerify)]
    public async Task<IActionResult> Result(string id)
    {
        var agent = Current.Agent;
        var path = ResultPath(id);
        var kept = PortalIds.IsWellFormed(id) ? handover.Read<ActionResultHandover>(Request, ResultPurpose, agent, path) : null;
        var action = kept is null ? null : CallerAction.All.FirstOrDefault(a => a.Name == kept.Action);
        if (kept is null || action is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return View("ResultGone");
        }

        if (kept.Secret is not null)
        {
            // Shown now, so it leaves the browser now: what stays is the outcome without it.
            handover.Keep(Response, ResultPurpose, agent, path, kept with { Secret = null, SecretShown = true }, clock.GetUtcNow() + ResultLifetime);
        }

        Response.StatusCode = kept.Status;
        var outcome = kept.Status == StatusCodes.Status200OK
            ? new ActionOutcome(kept.Succeeded, kept.Message, kept.Secret, kept.SecretLabel, kept.SecretExpiresAt)
            {
                AuditAs = kept.Partial ? AuditOutcome.Partial : AuditOutcome.Succeeded,
                Notice = kept.NoticeSent is { } sent ? new Portal.Web.Verification.Recovery.RecoveryNoticeResult(sent, kept.NoticeMessage ?? "") : null,
            }
            : null;
        var approval = kept.RefusalCode == ActionService.ApprovalRequiredCode && VerificationId.TryParse(kept.VerificationId, out var verification)
            ? await ApprovalOfAsync(agent, verification, action)
            : null;
        return View("Result", new ActionPage(action, kept.VerificationId, outcome, outcome is null ? kept.Message : null, kept.SecretShown ? kept.SecretLabel : null) { Approval = approval });
    }

    /// <summary>
    /// Where the second agent's approval of this agent's request stands, for the result page's script: it reloads the
    /// page when the answer changes, so the requester's page moves on by itself (docs/tenancy.md, "Approvals").
    /// Only the requester reads it; anything else is 404.
    /// </summary>
    [HttpGet("approval/{verificationId}/{actionName}")]
    [Authorize(Policy = Permissions.CallerVerify)]
    public async Task<IActionResult> ApprovalStatus(string verificationId, string actionName)
    {
        var agent = Current.Agent;
        var known = CallerAction.All.FirstOrDefault(a => a.Name == actionName);
        if (known is null || !VerificationId.TryParse(verificationId, out var id))
        {
            return NotFound();
        }

        var approval = await ApprovalOfAsync(agent, id, known);
        return approval is null ? NotFound() : Json(new { value = approval.Watched });
    }

    private async Task<ApprovalProgress?> ApprovalOfAsync(AgentContext agent, VerificationId verificationId, CallerAction action)
    {
        var ct = HttpContext.RequestAborted;
        var request = await approvals.GetAsync(agent.TenantId, ApprovalStore.IdFor(verificationId, action.Name), ct);
        if (request is null && await verifications.GetSessionAsync(agent.TenantId, verificationId.Value, ct) is { } session && session.AgentSubject == agent.Subject)
        {
            // Asked for at look-up, before this verification: the action found that request instead of making one.
            request = await approvals.GetAsync(agent.TenantId, ApprovalStore.IdBeforeVerifying(agent.Subject, session.CallerIdHash, action.Name), ct);
        }

        var url = $"/actions/approval/{verificationId}/{action.Name}";
        if (request is null)
        {
            return new ApprovalProgress(null, null, url);
        }

        if (request.RequesterSubject != agent.Subject)
        {
            return null;
        }

        // A request ends with its verification (or its time, when asked for at look-up), whatever its state.
        if (request.ExpiresAt <= approvals.Now)
        {
            return new ApprovalProgress(null, null, url);
        }

        var decider = request.DeciderSubject is { } subject && tenants.Find(agent.TenantId) is { } tenant
            ? (await agentNames.ResolveAsync(tenant, [subject], ct)).GetValueOrDefault(subject)?.Name
            : null;
        return new ApprovalProgress(request.State, decider ?? request.DeciderMaskedLogin, url);
    }

    private async Task<IActionResult> RunAsync(CallerAction action, string? verificationId, string? ticketRef, Func<ICallerDirectory, string, CancellationToken, Task<IdpResult<ActionOutcome>>> perform)
    {
        var agent = Current.Agent;
        var tenant = Current.Tenant;
        VerificationId? verification = VerificationId.TryParse(verificationId, out var parsed) ? parsed : null;
        var (outcome, refusal) = await actions.RunAsync(Current, action, verification, ticketRef, perform, HttpContext.RequestAborted);
        var status = refusal?.HttpStatus ?? StatusCodes.Status200OK;

        // The verification id goes back only as a link to its page, and only when it is one.
        var shownVerification = verification?.Value ?? "";
        var result = outcome is not null
            ? new ActionResultHandover(action.Name, shownVerification, status, outcome.Succeeded, outcome.IsPartial, outcome.Message, null, outcome.OneTimeSecret, outcome.OneTimeSecretLabel, outcome.SecretExpiresAt, false, outcome.Notice?.Sent, outcome.Notice?.Message)
            : new ActionResultHandover(action.Name, shownVerification, status, false, false, refusal!.Message, refusal.Code, null, null, null, false);
        var id = PortalIds.New();
        handover.Keep(Response, ResultPurpose, agent, ResultPath(id), result, clock.GetUtcNow() + ResultLifetime);
        return this.SeeOther(ResultPath(id));
    }

    /// <summary>
    /// An action that removes what the caller relies on (every factor, every session) is taken only once the agent has
    /// confirmed that the caller knows: the form's checkbox, enforced here too, so a form posted without it changes
    /// nothing. Refused before the verification is touched: nothing to audit, the same verification can still act.
    /// </summary>
    private StatusCodeResult NotConfirmed(CallerAction action, string? verificationId, string message)
    {
        var agent = Current.Agent;
        var shownVerification = VerificationId.TryParse(verificationId, out var parsed) ? parsed.Value : "";
        var id = PortalIds.New();
        handover.Keep(Response, ResultPurpose, agent, ResultPath(id), new ActionResultHandover(action.Name, shownVerification, StatusCodes.Status422UnprocessableEntity, false, false, message, "not_confirmed", null, null, null, false), clock.GetUtcNow() + ResultLifetime);
        return this.SeeOther(ResultPath(id));
    }

    private static string ResultPath(string id) => "/actions/result/" + id;
}
