using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification.Methods;

namespace Portal.Web.Verification;

/// <summary>
/// How every verification method ends a challenge: approved opens the verification session exactly once, however many
/// requests or instances decide it at the same moment; failed counts against the caller's limits (V4) and, as an alarm,
/// blocks the caller and tells the security team (V6). Each end is audited under the method's result action.
/// </summary>
public sealed class VerificationVerdicts(
    VerificationStore store,
    IAuditTrail audit,
    IAlertNotifier alerts,
    IUsageMeter usage,
    ILogger<VerificationVerdicts> logger)
{
    /// <summary>The caller is verified: the challenge moves to approved once, and only that move opens a session.</summary>
    public async Task<PendingVerification> ApproveAsync(AgentRequest request, PendingVerification pending, string callerId, string resultAction, CancellationToken ct)
    {
        var (agent, tenant, _) = request;
        var sessionId = VerificationId.New();
        var won = await store.CompletePendingAsync(tenant.Id, pending.Id, ChallengeState.Approved, sessionId.Value, ct);
        if (won is null)
        {
            return await store.GetPendingAsync(tenant.Id, pending.Id, ct) ?? pending;
        }

        var caller = new CallerBinding(callerId, pending.CallerIdHash, pending.CallerMaskedLogin, pending.CallerRefProtected);
        var prior = PriorVerification.Of(pending);
        await OpenSessionAsync(agent, tenant, caller, pending.Method, ct, sessionId, prior);
        if (pending.AttemptReservationId is { } reserved)
        {
            await store.RefundAsync(tenant.Id, pending.CallerIdHash, reserved, succeeded: true, ct);
        }
        else
        {
            // A challenge without a reservation (stored by an earlier version during a rolling deployment; ten minutes at most).
            await store.RecordSuccessAsync(tenant.Id, pending.CallerIdHash, ct);
        }

        await audit.RecordAsync(CallerEntry(request, resultAction, AuditOutcome.Succeeded, callerId, pending.CallerMaskedLogin, PriorVerification.OpenedReason("approved", prior)) with { Method = pending.Method }, ct);
        return won;
    }

    /// <summary>
    /// The challenge failed with <paramref name="reason"/>. A rejection is an alarm unless <paramref name="alarm"/> says
    /// otherwise. <paramref name="countAgainstCaller"/> false gives the attempt back: the failure was not the caller's
    /// (a step-up link's wrong codes are typed by whoever holds the link, F7).
    /// </summary>
    public async Task<PendingVerification> FailAsync(
        AgentRequest request, PendingVerification pending, string callerId, ChallengeState state, string resultAction, string reason, CancellationToken ct,
        bool? alarm = null, bool countAgainstCaller = true)
    {
        var (agent, tenant, _) = request;
        var won = await store.CompletePendingAsync(tenant.Id, pending.Id, state, null, ct, reason);
        if (won is null)
        {
            return await store.GetPendingAsync(tenant.Id, pending.Id, ct) ?? pending;
        }

        // V6: a rejected push (a wrong number, or the caller's "not me") is a security event, not a typo.
        var isAlarm = alarm ?? state == ChallengeState.Rejected;
        if (countAgainstCaller)
        {
            await CountFailureAsync(tenant, pending.CallerIdHash, pending.AttemptReservationId, isAlarm, pending.Method, callerId, ct);
        }
        else if (pending.AttemptReservationId is { } reserved)
        {
            await store.RefundAsync(tenant.Id, pending.CallerIdHash, reserved, succeeded: false, CancellationToken.None);
        }

        if (isAlarm)
        {
            Alert(request, pending, reason);
        }

        await audit.RecordAsync(CallerEntry(request, resultAction, isAlarm ? AuditOutcome.Alarm : AuditOutcome.Failed, callerId, pending.CallerMaskedLogin, reason) with { Method = pending.Method }, ct);
        return won;
    }

    /// <summary>
    /// An alarm raised about a challenge that has already ended (a call-back's "they did not call us" heard after its
    /// ten minutes): the caller is blocked and the security team told, as for a rejection; the challenge stays as it ended.
    /// </summary>
    public async Task<PendingVerification> AlarmAfterEndAsync(AgentRequest request, PendingVerification pending, string callerId, string resultAction, string reason, CancellationToken ct)
    {
        var tenant = request.Tenant;
        if (await store.ReasonAfterEndAsync(tenant.Id, pending.Id, reason, ct) is not { } won)
        {
            // Reported already (two tabs, a double click): one alarm.
            return await store.GetPendingAsync(tenant.Id, pending.Id, ct) ?? pending;
        }

        await store.RaiseAlarmAsync(tenant.Id, pending.CallerIdHash, tenant.Verification, ct);
        await usage.RecordVerificationAsync(tenant.Id, pending.Method, AuditOutcome.Alarm, callerId, ct);
        Alert(request, pending, reason);
        await audit.RecordAsync(CallerEntry(request, resultAction, AuditOutcome.Alarm, callerId, pending.CallerMaskedLogin, reason) with { Method = pending.Method }, ct);
        return won;
    }

    /// <summary>V6: the alarm logged (without the caller) and sent to the tenant's security team by their webhook, off the request path.</summary>
    private void Alert(AgentRequest request, PendingVerification pending, string reason)
    {
        var (agent, tenant, _) = request;
        PortalLog.Alarm(logger, tenant.Id, reason);
        alerts.Raise(new AlertEvent
        {
            Id = PortalIds.New(),
            TenantId = tenant.Id,
            Type = "caller.alarm",
            Reason = reason,
            At = store.Now,
            CallerIdHash = pending.CallerIdHash,
            CallerMaskedLogin = pending.CallerMaskedLogin,
            AgentSubject = agent.Subject,
            AgentMaskedLogin = agent.MaskedLogin,
            RequestId = request.Origin.RequestId,
        });
    }

    /// <summary>A challenge decided elsewhere (in the request that sent it, or by the caller's sign-in) can only run out here (V2).</summary>
    public async Task<Outcome<PendingVerification>> ExpireAsync(AgentRequest request, PendingVerification pending, string callerId, string resultAction, string reason, CancellationToken ct) =>
        store.Now < pending.ExpiresAt
            ? pending
            : await FailAsync(request, pending, callerId, ChallengeState.TimedOut, resultAction, reason, ct, alarm: false);

    /// <summary>
    /// Opens the verification session: bound to tenant, agent session, agent, caller and method, for the tenant's minutes
    /// (V5); a second method's session names the verification it follows (<paramref name="prior"/>).
    /// </summary>
    public async Task<VerificationSession> OpenSessionAsync(AgentContext agent, TenantSettings tenant, CallerBinding caller, string method, CancellationToken ct, VerificationId? id = null, PriorVerification? prior = null)
    {
        var now = store.Now;
        var session = new VerificationSession
        {
            Id = (id ?? VerificationId.New()).Value,
            TenantId = tenant.Id,
            AgentSessionId = agent.SessionId,
            AgentSubject = agent.Subject,
            CallerIdHash = caller.IdHash,
            CallerMaskedLogin = caller.MaskedLogin,
            CallerRefProtected = caller.RefAtRest,
            Method = method,
            VerifiedAt = now,
            ExpiresAt = now.AddMinutes(tenant.Verification.SessionMinutes),
            PriorVerificationId = prior?.Id,
            PriorMethod = prior?.Method,
        };
        await store.CreateSessionAsync(session, ct);
        await usage.RecordVerificationAsync(tenant.Id, method, AuditOutcome.Succeeded, caller.Id, ct);
        return session;
    }

    /// <summary>
    /// A failed verification counts against the caller's limits (V4) and is metered by method and outcome for billing.
    /// A reserved attempt was charged before the IdP call: only the alarm is added.
    /// </summary>
    public async Task CountFailureAsync(TenantSettings tenant, string callerIdHash, string? reservation, bool alarm, string method, string callerId, CancellationToken ct)
    {
        if (reservation is null)
        {
            await store.RecordFailureAsync(tenant.Id, callerIdHash, alarm, tenant.Verification, ct);
        }
        else if (alarm)
        {
            await store.RaiseAlarmAsync(tenant.Id, callerIdHash, tenant.Verification, ct);
        }

        await usage.RecordVerificationAsync(tenant.Id, method, alarm ? AuditOutcome.Alarm : AuditOutcome.Failed, callerId, ct);
    }

    /// <summary>An IdP failure as the agent is told it (the IdP's own words), logged without the caller.</summary>
    public Refusal IdpRefusal(string operation, TenantSettings tenant, IdpError error)
    {
        PortalLog.IdpFailed(logger, operation, tenant.Id, error.Kind.ToString(), error.Code);
        return new Refusal(error.Code, error.AgentMessage, RefusalKind.IdpFailed);
    }

    public static AuditEntry CallerEntry(AgentRequest request, string action, AuditOutcome outcome, string callerId, string callerLogin, string? reason) =>
        AuditEntries.For(request, action, outcome, reason) with { CallerId = callerId, CallerLogin = callerLogin };
}

/// <summary>What the caller's gate (<see cref="CallerGate"/>) means to the agent and to the audit: one code and one sentence each.</summary>
public static class CallerGates
{
    public static string Code(CallerGate gate) => gate switch
    {
        CallerGate.Alarm => "caller_alarm",
        CallerGate.CoolingDown => "cooling_down",
        CallerGate.PushLimit => "push_limit",
        _ => "failure_limit",
    };

    public static Refusal Refusal(CallerGate gate) => gate switch
    {
        CallerGate.Alarm => new Refusal(Code(gate), "This caller is under a security alarm (a push or a manager's approval was rejected, who answered a call-back said they never called, or the caller disputed a recovery). Verification and account changes are blocked for now; your security team has been alerted."),
        CallerGate.CoolingDown => new Refusal(Code(gate), "Too many failed attempts for this caller. Try again after the cool-down."),
        CallerGate.PushLimit => new Refusal(Code(gate), "Too many pushes were sent to this caller recently. Wait before sending another, or use a code."),
        _ => new Refusal(Code(gate), "This caller has failed verification too often. Escalate to your security team."),
    };
}
