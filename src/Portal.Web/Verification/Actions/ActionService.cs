using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification.Recovery;

namespace Portal.Web.Verification.Actions;

/// <summary>
/// An action on a verified caller's account, with the permission it needs and the methods it accepts by
/// default (<see cref="AcceptedMethods"/>); a tenant's policy (<see cref="TenantSettings.ActionMethods"/>) can set its own.
/// </summary>
public sealed record CallerAction(string Name, string Permission, string Title, IReadOnlyList<string> AcceptedMethods, IdpOperation Operation)
{
    private static readonly string[] Any = [VerificationMethods.OktaPush, VerificationMethods.OidcStepUp, VerificationMethods.OktaTotp];

    // V7: the actions that hand over the account (a TAP, new MFA) need a method with number matching or a
    // fresh sign-in; a TOTP code read over the phone is not enough for them.
    private static readonly string[] Strong = [VerificationMethods.OktaPush, VerificationMethods.OidcStepUp];

    public static readonly CallerAction PasswordReset = new("password_reset", Permissions.PasswordReset, "Reset password", Any, IdpOperation.ResetPassword);
    // A call-back to the number on file (recovery, weaker) opens only this by default: signing an account out hands
    // nothing over, whoever asked for it (docs/recovery.md).
    public static readonly CallerAction RevokeSessions = new("sessions_revoke", Permissions.SessionsRevoke, "Sign out everywhere", [.. Any, VerificationMethods.RecoveryCallBack], IdpOperation.RevokeSessions);
    public static readonly CallerAction Unlock = new("account_unlock", Permissions.AccountUnlock, "Unlock account", Any, IdpOperation.Unlock);
    public static readonly CallerAction ResetFactors = new("mfa_reset", Permissions.MfaReset, "Reset MFA factors", Strong, IdpOperation.ResetFactors);
    // Recovery (docs/recovery.md): a caller whose manager approved, or who passed the organisation's ID verification at
    // its IdP, may be given a temporary access code to enrol a new factor, and nothing else unless the tenant's policy says so.
    public static readonly CallerAction TemporaryAccess = new("tap_issue", Permissions.TapIssue, "Issue temporary access code", [.. Strong, VerificationMethods.RecoveryManager, VerificationMethods.RecoveryIdVerification], IdpOperation.IssueTemporaryAccess);

    public static IReadOnlyList<CallerAction> All { get; } = [PasswordReset, RevokeSessions, Unlock, ResetFactors, TemporaryAccess];

    /// <summary>The methods this action accepts in a tenant: its policy when it names the action, else the default (V7).</summary>
    public IReadOnlyList<string> AcceptedMethodsFor(TenantSettings tenant) =>
        tenant.ActionMethods.TryGetValue(Name, out var methods) && methods.Count > 0 ? methods : AcceptedMethods;
}

/// <summary>What the agent sees after an action. <see cref="OneTimeSecret"/> is rendered once and never kept.</summary>
public sealed record ActionOutcome(bool Succeeded, string Message, string? OneTimeSecret = null, string? OneTimeSecretLabel = null, DateTimeOffset? SecretExpiresAt = null)
{
    /// <summary>How the action's audit record is completed: <see cref="AuditOutcome.Partial"/> when only part of it happened.</summary>
    public AuditOutcome AuditAs { get; init; } = AuditOutcome.Succeeded;

    /// <summary>What the audit record says happened (no secret, no personal data), e.g. which methods an MFA reset removed.</summary>
    public string? AuditReason { get; init; }

    public bool IsPartial => AuditAs == AuditOutcome.Partial;

    /// <summary>After an action through a recovery method: whether the caller's recovery notice was sent (docs/recovery.md); null otherwise.</summary>
    public RecoveryNoticeResult? Notice { get; init; }

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
    ApprovalStore approvals,
    IUsageMeter usage,
    IRecoveryNotices notices,
    IAlertNotifier alerts,
    ILogger<ActionService> logger)
{
    /// <summary>
    /// The alarm type of an action whose outcome at the IdP is unknown (docs/tenancy.md, "The alarms the webhook
    /// receives"): the change was sent and no answer came, so the security team checks the account.
    /// </summary>
    public const string OutcomeUnknownAlertType = "action.outcome_unknown";

    /// <summary>The refusal of an action on a privileged target until a second agent approves it.</summary>
    public const string ApprovalRequiredCode = "approval_required";

    /// <summary>
    /// The steps in order: the agent's own verification of the caller; the checks that refuse while the verification
    /// is still unused (method, caller gate, privileged target); the pending audit record (D3); the verification
    /// consumed for this action (V5); the IdP call; its outcome recorded. Each refusal leaves its own audit record.
    /// </summary>
    public async Task<Outcome<ActionOutcome>> RunAsync(
        AgentRequest request, CallerAction action, VerificationId? verificationId, string? ticketRef,
        Func<ICallerDirectory, string, CancellationToken, Task<IdpResult<ActionOutcome>>> perform, CancellationToken ct)
    {
        var entry = AuditEntries.For(request, "action." + action.Name, AuditOutcome.Pending) with { TicketRef = ticketRef };
        var (caller, notVerified) = await VerifiedCallerAsync(request, verificationId, entry, ct);
        if (caller is null)
        {
            return notVerified!;
        }

        var verified = VerificationId.Of(caller.Session);
        if (await RefusalBeforeActingAsync(request, action, verified, caller, ct) is { } refused)
        {
            return refused;
        }

        // D3: the record exists before anything happens at the IdP; if it cannot be written, nothing happens.
        var pending = await audit.BeginAsync(caller.Entry, ct);
        if (await ConsumeVerificationAsync(request.Agent, request.Tenant, action, verified, ticketRef, pending, ct) is { } unusable)
        {
            return unusable;
        }

        var result = await CallIdpAsync(perform, request.Tenant, caller.CallerId, ct);
        var outcome = await RecordOutcomeAsync(request.Tenant, action, verified, pending, result);
        if (result.Error is { OutcomeUnknown: true } unknown)
        {
            RaiseOutcomeUnknown(request, action, caller, unknown);
        }

        if (outcome.Value is not { } done)
        {
            return outcome;
        }

        // NIST SP 800-63B-4 §4.2 (V10): an action through a recovery method is followed by a notice to the caller. The
        // action stands whatever becomes of the notice; the agent reads which.
        var notice = await notices.AfterActionAsync(request, action, caller.Session, caller.CallerId, done, CancellationToken.None);
        return notice is null ? done : done with { Notice = notice };
    }

    /// <summary>
    /// A3/V5: the verification this agent session made, and the caller's IdP id read from it; the action's audit entry,
    /// once the verification is found, names the verified caller and the method. Refused (and audited) otherwise.
    /// </summary>
    private async Task<Outcome<VerifiedCaller>> VerifiedCallerAsync(AgentRequest request, VerificationId? verificationId, AuditEntry entry, CancellationToken ct)
    {
        var (agent, tenant, _) = request;
        var session = verificationId is { } id ? await store.GetSessionAsync(tenant.Id, id.Value, ct) : null;
        if (session is null || session.AgentSessionId != agent.SessionId || session.AgentSubject != agent.Subject)
        {
            // A3/V5: no verification of this agent session, so no action, whatever ids the form carries.
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = "no_verification" }, ct);
            return new Refusal("no_verification", "There is no verification of this caller by you. Verify the caller first.");
        }

        var callerId = references.FromRest(tenant.Id, session.CallerRefProtected);
        entry = entry with { CallerId = callerId, CallerLogin = session.CallerMaskedLogin, Method = session.Method };
        if (callerId is null)
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = "unreadable_verification" }, ct);
            return new Refusal("unreadable_verification", "This verification can no longer be read. Verify the caller again.");
        }

        return new VerifiedCaller(session, callerId, entry);
    }

    /// <summary>
    /// The checks that refuse an action while its verification stays unused, in this order: a method the action accepts
    /// (V7, the tenant's policy), no alarm or failure limit on the caller, for an executive target two live verifications
    /// by different methods, and for a privileged target a second agent's approval. Null when the action may go ahead. The agent's permission for the action was checked by the route's policy.
    /// </summary>
    private async Task<Refusal?> RefusalBeforeActingAsync(AgentRequest request, CallerAction action, VerificationId verificationId, VerifiedCaller caller, CancellationToken ct)
    {
        if (await MethodRefusalAsync(request.Tenant, action, caller, ct) is { } weakMethod)
        {
            return weakMethod;
        }

        if (await CallerGateRefusalAsync(request.Tenant, caller, ct) is { } barred)
        {
            return barred;
        }

        if (await ExecutiveRefusalAsync(request.Tenant, caller, ct) is { } oneMethod)
        {
            return oneMethod;
        }

        // The IdP says itself who is an administrator (Okta admin roles, direct or through a group; Entra directory
        // roles, PIM-eligible ones, role-assignable groups): always asked, and the tenant's privileged groups too.
        return await PrivilegedTargetAsync(request, action, verificationId, caller.Session, caller.CallerId, caller.Entry, ct);
    }

    /// <summary>V7: the verification's method is one the action accepts in this tenant; the refusal names the methods that are.</summary>
    private async Task<Refusal?> MethodRefusalAsync(TenantSettings tenant, CallerAction action, VerifiedCaller caller, CancellationToken ct)
    {
        var accepted = action.AcceptedMethodsFor(tenant);
        if (accepted.Contains(caller.Session.Method))
        {
            return null;
        }

        await audit.RecordAsync(caller.Entry with { Outcome = AuditOutcome.Denied, Reason = "method_insufficient" }, ct);
        return new Refusal("method_insufficient", $"{action.Title} needs a stronger verification: your organisation accepts {MethodLabels.Alternatives(accepted)} for it.");
    }

    /// <summary>
    /// An executive target (docs/tenancy.md, "Executive targets: two independent methods"; membership read now, an IdP
    /// that does not say counts as executive) is acted on only through the second of two live verifications of the same
    /// agent session by different methods (<see cref="ExecutiveTargets.ChainHolds"/>); refused and audited otherwise.
    /// </summary>
    private async Task<Refusal?> ExecutiveRefusalAsync(TenantSettings tenant, VerifiedCaller caller, CancellationToken ct)
    {
        var session = caller.Session;
        var (state, down) = await ExecutiveTargets.VerdictAsync(directories.For(tenant), tenant, caller.CallerId, ct);
        if (!ExecutiveTargets.NeedsSecondMethod(state))
        {
            return null;
        }

        var prior = session.PriorVerificationId is { } priorId ? await store.GetSessionAsync(tenant.Id, priorId, ct) : null;
        if (ExecutiveTargets.ChainHolds(session, prior, store.Now))
        {
            return null;
        }

        // The IdP did not answer: nothing can be done on the account now, and a second method would not change that.
        if (down is not null)
        {
            await audit.RecordAsync(caller.Entry with { Outcome = AuditOutcome.Failed, Reason = down.Code }, ct);
            return new Refusal(down.Code, down.AgentMessage, RefusalKind.IdpFailed);
        }

        await audit.RecordAsync(caller.Entry with { Outcome = AuditOutcome.Denied, Reason = "second_method_required" }, ct);
        return new Refusal(
            ExecutiveTargets.SecondMethodRequiredCode,
            session.PriorVerificationId is null && state == ExecutiveState.Unknown
                ? "Whether this caller is an executive target is not known (the identity provider did not give all their groups), so your organisation requires a second, independent method before any action, as for an executive. On the verified caller's page, choose \"Verify by a second method\" and verify the caller by a different method; then act from the second verification."
                : session.PriorVerificationId is null
                ? "This caller is an executive target: your organisation requires a second, independent method before any action. On the verified caller's page, choose \"Verify by a second method\" and verify the caller by a different method; then act from the second verification."
                : "The first of this caller's two verifications has ended. Verify the caller again by one method, then by a second, different one, and act from the second.");
    }

    /// <summary>A caller under alarm or past the failure limit is refused actions too (a cooldown alone is not), audited by the gate's code (<c>caller_alarm</c>, <c>failure_limit</c>).</summary>
    private async Task<Refusal?> CallerGateRefusalAsync(TenantSettings tenant, VerifiedCaller caller, CancellationToken ct)
    {
        var gate = await store.CheckGateAsync(tenant.Id, caller.Session.CallerIdHash, forAction: true, ct);
        if (gate != CallerGate.Open)
        {
            await audit.RecordAsync(caller.Entry with { Outcome = AuditOutcome.Denied, Reason = CallerGates.Code(gate) }, ct);
            return CallerGates.Refusal(gate);
        }

        return null;
    }

    /// <summary>
    /// V5: uses the verification for this action, in one atomic update, after the pending record is written and before
    /// the IdP call, so two requests for the same action cannot both reach the IdP. Null when it was consumed; otherwise
    /// the pending record is completed as denied with why (used already, expired, gone).
    /// </summary>
    private async Task<Refusal?> ConsumeVerificationAsync(AgentContext agent, TenantSettings tenant, CallerAction action, VerificationId verificationId, string? ticketRef, PendingAudit pending, CancellationToken ct)
    {
        var (consumed, _) = await store.ConsumeAsync(tenant.Id, verificationId.Value, agent.SessionId, agent.Subject, action.Name, Portal.Audit.TicketRef.Sanitise(ticketRef), ct);
        if (consumed == ConsumeResult.Consumed)
        {
            return null;
        }

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
        return new Refusal(reason, message);
    }

    /// <summary>The action at the IdP. An IdP that did not answer leaves the outcome unknown, and the agent is told so.</summary>
    private async Task<IdpResult<ActionOutcome>> CallIdpAsync(
        Func<ICallerDirectory, string, CancellationToken, Task<IdpResult<ActionOutcome>>> perform, TenantSettings tenant, string callerId, CancellationToken ct)
    {
        try
        {
            return await perform(directories.For(tenant), callerId, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            return new IdpError(IdpErrorKind.Unavailable, "unreachable", "The identity provider did not answer; the outcome is unknown. Check the account before trying again.") { OutcomeUnknown = true };
        }
    }

    /// <summary>
    /// A change sent to the IdP without an answer may have happened: the agent is told, and the tenant's security team
    /// gets the alarm (its webhook; the audit record says <c>failed</c> with the IdP's code), naming the action, the
    /// caller's pseudonym and masked login and the agent, so that someone checks the account at the IdP.
    /// </summary>
    private void RaiseOutcomeUnknown(AgentRequest request, CallerAction action, VerifiedCaller caller, IdpError error)
    {
        PortalLog.Alarm(logger, request.Tenant.Id, OutcomeUnknownAlertType);
        alerts.Raise(new AlertEvent
        {
            Id = PortalIds.New(),
            TenantId = request.Tenant.Id,
            Type = OutcomeUnknownAlertType,
            Reason = action.Name + " " + error.Code,
            At = store.Now,
            CallerIdHash = caller.Session.CallerIdHash,
            CallerMaskedLogin = caller.Session.CallerMaskedLogin,
            AgentSubject = request.Agent.Subject,
            AgentMaskedLogin = request.Agent.MaskedLogin,
            RequestId = request.Origin.RequestId,
        });
    }

    /// <summary>
    /// After the IdP call, whatever the request's cancellation: the audit record completed (D3), the outcome noted for the
    /// call summary, then the agent's answer: the IdP's refusal (502), or the outcome, metered for usage.
    /// </summary>
    private async Task<Outcome<ActionOutcome>> RecordOutcomeAsync(TenantSettings tenant, CallerAction action, VerificationId verificationId, PendingAudit pending, IdpResult<ActionOutcome> result)
    {
        await CompleteAuditAsync(tenant.Id, pending, result);
        await RecordDoneAsync(tenant.Id, verificationId, action, !result.IsSuccess ? "failed" : result.Value.IsPartial ? "partial" : "succeeded");
        if (!result.IsSuccess)
        {
            PortalLog.IdpFailed(logger, action.Name, tenant.Id, result.Error.Kind.ToString(), result.Error.Code);
            return new Refusal(result.Error.Code, result.Error.AgentMessage, RefusalKind.IdpFailed);
        }

        await usage.RecordActionAsync(tenant.Id, action.Name, result.Value.AuditAs, CancellationToken.None);
        return result.Value;
    }

    /// <summary>D3: the record says what the IdP did: the outcome's own audit outcome and reason, or failed with the IdP's code.</summary>
    private async Task CompleteAuditAsync(string tenantId, PendingAudit pending, IdpResult<ActionOutcome> result)
    {
        try
        {
            await audit.CompleteAsync(pending, result.IsSuccess ? result.Value.AuditAs : AuditOutcome.Failed, result.IsSuccess ? result.Value.AuditReason : result.Error.Code, CancellationToken.None);
        }
        catch (AuditUnavailableException)
        {
            // The IdP call happened; its record stays "pending" (outcome unknown) for the auditors to see.
            PortalLog.AuditCompletionFailed(logger, tenantId, pending.RecordId);
        }
    }

    /// <summary>
    /// Notes the outcome on the verification for the call summary. The IdP call has happened and the audit holds the
    /// truth, so a store that fails here costs the summary one line, never the agent's result (or its one-time secret).
    /// </summary>
    private async Task RecordDoneAsync(string tenantId, VerificationId verificationId, CallerAction action, string outcome)
    {
        try
        {
            await store.RecordDoneAsync(tenantId, verificationId.Value, new ActionDone(action.Name, outcome, store.Now), CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            PortalLog.CallSummaryNotUpdated(logger, tenantId, ex.GetType().Name);
        }
    }

    /// <summary>
    /// V7: an action on a privileged target (<see cref="PrivilegedTargets"/>), or any action while the tenant's
    /// heightened-threat mode is on, also needs a second agent's approval. Null when the action may go ahead. Unknown roles or membership count as privileged (fail closed); an IdP that
    /// does not answer is told to the agent as such (502), since no approval would let the action through then.
    /// </summary>
    private async Task<Refusal?> PrivilegedTargetAsync(AgentRequest request, CallerAction action, VerificationId verificationId, VerificationSession session, string callerId, AuditEntry entry, CancellationToken ct)
    {
        var (agent, tenant, _) = request;
        var verdict = await PrivilegedTargets.CheckAsync(directories.For(tenant), tenant, callerId, ct);

        // Heightened-threat mode (docs/tenancy.md): every caller is treated as a privileged target while it is on; so
        // is a caller verified through a recovery method when the tenant asks for two agents on recovery (docs/recovery.md).
        var heightened = tenant.HeightenedMode.On;
        var recovery = tenant.Recovery.RequireSecondAgent && VerificationMethods.IsRecovery(session.Method);
        if (verdict.State == PrivilegeState.NotPrivileged && !heightened && !recovery)
        {
            return null;
        }

        // The IdP did not answer: nothing can be done on the account now, and a second agent would not change that.
        if (verdict.Down is { } down)
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Failed, Reason = down.Code }, ct);
            return new Refusal(down.Code, down.AgentMessage, RefusalKind.IdpFailed);
        }

        var id = ApprovalStore.IdFor(verificationId, action.Name);
        if (await approvals.TryUseAsync(tenant.Id, id, agent.Subject, ct))
        {
            await audit.RecordAsync(entry with { Action = "approval.use", Outcome = AuditOutcome.Succeeded, Reason = action.Name }, ct);
            return null;
        }

        // Asked for at look-up, before verifying: the same agent, the same caller, the same action. Not for a recovery:
        // the colleague who approved then did not know the caller would be verified by someone else's word.
        var askedEarlier = ApprovalStore.IdBeforeVerifying(agent.Subject, session.CallerIdHash, action.Name);
        if (!VerificationMethods.IsRecovery(session.Method) && await approvals.TryUseAsync(tenant.Id, askedEarlier, agent.Subject, ct))
        {
            await audit.RecordAsync(entry with { Action = "approval.use", Outcome = AuditOutcome.Succeeded, Reason = action.Name + " before_verification" }, ct);
            return null;
        }

        var existing = await approvals.GetAsync(tenant.Id, id, ct);
        var earlier = !VerificationMethods.IsRecovery(session.Method) && await approvals.GetAsync(tenant.Id, askedEarlier, ct) is { } found && found.ExpiresAt > approvals.Now ? found : null;
        if (existing is { State: ApprovalState.Rejected } || earlier is { State: ApprovalState.Rejected })
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = "approval_rejected" }, ct);
            return new Refusal("approval_rejected", $"A second agent rejected {action.Title} for this caller. Escalate to your security team.");
        }

        if (existing is null && earlier is null)
        {
            await approvals.RequestAsync(
                new ApprovalRequest
                {
                    Id = id,
                    TenantId = tenant.Id,
                    VerificationId = verificationId.Value,
                    Action = action.Name,
                    Permission = action.Permission,
                    RequesterSubject = agent.Subject,
                    RequesterMaskedLogin = agent.MaskedLogin,
                    CallerIdHash = session.CallerIdHash,
                    CallerMaskedLogin = session.CallerMaskedLogin,
                    TicketRef = Portal.Audit.TicketRef.Sanitise(entry.TicketRef),
                    Method = session.Method,
                    State = ApprovalState.Pending,
                    CreatedAt = approvals.Now,
                    ExpiresAt = session.ExpiresAt,
                },
                ct);
            await audit.RecordAsync(entry with { Action = "approval.request", Outcome = AuditOutcome.Succeeded, Reason = action.Name + (verdict.RolesUnknown ? " roles_unknown" : "") + (verdict.GroupsUnknown ? " groups_unknown" : "") + (heightened ? " " + HeightenedThreat.Code : "") + (recovery ? " recovery" : "") }, ct);
        }

        var why = verdict.State == PrivilegeState.Unknown
                ? "Whether this caller is a privileged account is not known" + (verdict.UnknownBecause is { } unknown ? " (" + unknown.AgentMessage.TrimEnd('.') + ")" : "")
            : verdict.NeedsApproval ? "This caller is a privileged account"
            : heightened ? "Heightened-threat mode is on in your organisation"
            : "This caller was verified through a recovery method, and your organisation asks for two agents on every recovery";
        return new Refusal(ApprovalRequiredCode, $"{why}: {action.Title} needs a second agent's approval. The request is in the approval queue for a colleague to decide; once approved, submit again while this verification lasts.");
    }

    /// <summary>The agent's verification an action runs on, the caller's IdP id read from it, and the action's audit entry naming them.</summary>
    private sealed record VerifiedCaller(VerificationSession Session, string CallerId, AuditEntry Entry);
}
