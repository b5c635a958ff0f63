using Portal.Audit;
using Portal.Idp;
using Portal.Web.Authorization;
using Portal.Web.Features.Verification;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Actions;

/// <summary>An action on a verified caller's account, with the permission it needs and the weakest method it accepts.</summary>
public sealed record CallerAction(string Name, string Permission, string Title, IReadOnlyList<string> AcceptedMethods)
{
    private static readonly string[] Any = [VerificationMethods.OktaPush, VerificationMethods.OidcStepUp, VerificationMethods.OktaTotp];

    // V7: the actions that hand over the account (a TAP, new MFA) need a method with number matching or a
    // fresh sign-in; a TOTP code read over the phone is not enough for them.
    private static readonly string[] Strong = [VerificationMethods.OktaPush, VerificationMethods.OidcStepUp];

    public static readonly CallerAction PasswordReset = new("password_reset", Permissions.PasswordReset, "Reset password", Any);
    public static readonly CallerAction RevokeSessions = new("sessions_revoke", Permissions.SessionsRevoke, "Sign out everywhere", Any);
    public static readonly CallerAction Unlock = new("account_unlock", Permissions.AccountUnlock, "Unlock account", Any);
    public static readonly CallerAction ResetFactors = new("mfa_reset", Permissions.MfaReset, "Reset MFA factors", Strong);
    public static readonly CallerAction TemporaryAccess = new("tap_issue", Permissions.TapIssue, "Issue temporary access code", Strong);

    public static IReadOnlyList<CallerAction> All { get; } = [PasswordReset, RevokeSessions, Unlock, ResetFactors, TemporaryAccess];
}

/// <summary>What the agent sees after an action. <see cref="OneTimeSecret"/> is rendered once and never kept.</summary>
public sealed record ActionOutcome(bool Succeeded, string Message, string? OneTimeSecret = null, string? OneTimeSecretLabel = null, DateTimeOffset? SecretExpiresAt = null)
{
    public override string ToString() => $"ActionOutcome {{ Succeeded = {Succeeded}, Message = {Message}, OneTimeSecret = {(OneTimeSecret is null ? "none" : "[redacted]")} }}";
}

/// <summary>
/// Runs an action on a verified caller: permission (checked by the route's policy), a live verification of
/// this caller by this agent session that has not been used for this action, a method strong enough, no
/// alarm on the caller, and an audit record written before the IdP call and completed after (D3).
/// </summary>
public sealed class ActionService(
    TenantDirectories directories,
    VerificationStore store,
    CallerReferences references,
    IAuditTrail audit,
    ILogger<ActionService> logger)
{
    public async Task<(ActionOutcome? Outcome, Refusal? Refusal, int Status)> RunAsync(
        HttpContext http, AgentContext agent, TenantSettings tenant, CallerAction action, string verificationId, string? ticketRef,
        Func<ICallerDirectory, string, CancellationToken, Task<IdpResult<ActionOutcome>>> perform, CancellationToken ct)
    {
        var entry = AuditEntries.For(http, agent, "action." + action.Name, AuditOutcome.Pending) with { TicketRef = ticketRef };
        var session = await store.GetSessionAsync(tenant.Id, verificationId, ct);
        if (session is null || session.AgentSessionId != agent.SessionId || session.AgentSubject != agent.Subject)
        {
            // A3/V5: no verification of this agent session, so no action, whatever ids the form carries.
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = "no_verification" }, ct);
            return (null, new Refusal("no_verification", "There is no verification of this caller by you. Verify the caller first."), StatusCodes.Status403Forbidden);
        }

        var callerId = references.FromRest(tenant.Id, session.CallerRefProtected);
        entry = entry with { CallerId = callerId, CallerLogin = session.CallerMaskedLogin, Method = session.Method };
        if (callerId is null)
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = "unreadable_verification" }, ct);
            return (null, new Refusal("unreadable_verification", "This verification can no longer be read. Verify the caller again."), StatusCodes.Status403Forbidden);
        }

        if (!action.AcceptedMethods.Contains(session.Method))
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = "method_insufficient" }, ct);
            return (null, new Refusal("method_insufficient", $"{action.Title} needs a stronger verification (a push with number matching or a step-up sign-in)."), StatusCodes.Status403Forbidden);
        }

        var gate = await store.CheckGateAsync(tenant.Id, session.CallerIdHash, forAction: true, ct);
        if (gate != CallerGate.Open)
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = "caller_alarm" }, ct);
            return (null, VerificationService.GateRefusal(gate), StatusCodes.Status403Forbidden);
        }

        // D3: the record exists before anything happens at the IdP; if it cannot be written, nothing happens.
        var pending = await audit.BeginAsync(entry, ct);
        var (consumed, _) = await store.ConsumeAsync(tenant.Id, verificationId, agent.SessionId, agent.Subject, action.Name, ct);
        if (consumed != ConsumeResult.Consumed)
        {
            var reason = consumed switch
            {
                ConsumeResult.AlreadyUsed => "verification_used",
                ConsumeResult.Expired => "verification_expired",
                _ => "no_verification",
            };
            await audit.CompleteAsync(pending, AuditOutcome.Denied, reason, ct);
            var message = consumed == ConsumeResult.AlreadyUsed
                ? $"{action.Title} was already done in this verification. Verify the caller again to repeat it."
                : "This verification has expired. Verify the caller again.";
            return (null, new Refusal(reason, message), StatusCodes.Status403Forbidden);
        }

        IdpResult<ActionOutcome> result;
        try
        {
            result = await perform(directories.For(tenant), callerId, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            result = new IdpError(IdpErrorKind.Unavailable, "unreachable", "The identity provider did not answer; the outcome is unknown. Check the account before trying again.");
        }

        try
        {
            await audit.CompleteAsync(pending, result.IsSuccess ? AuditOutcome.Succeeded : AuditOutcome.Failed, result.IsSuccess ? null : result.Error.Code, CancellationToken.None);
        }
        catch (AuditUnavailableException)
        {
            // The IdP call happened; its record stays "pending" (outcome unknown) for the auditors to see.
            PortalLog.AuditCompletionFailed(logger, tenant.Id, pending.RecordId);
        }

        if (!result.IsSuccess)
        {
            PortalLog.IdpFailed(logger, action.Name, tenant.Id, result.Error.Kind.ToString(), result.Error.Code);
            return (null, new Refusal(result.Error.Code, result.Error.AgentMessage), StatusCodes.Status502BadGateway);
        }

        return (result.Value, null, StatusCodes.Status200OK);
    }
}
