using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification;

/// <summary>What the console shows about a caller: masked, with each factor saying whether it can be challenged.</summary>
public sealed record CallerView(string CallerRef, string MaskedLogin, string MaskedEmail, CallerStatus Status, IReadOnlyList<CallerFactor> Factors, CallerGate Gate)
{
    /// <summary>What the console says instead of offering a password reset to a directory-synced caller.</summary>
    public const string SyncedPasswordNote = "Synced from on-premises Active Directory: the password can only be reset there (the portal does not use password writeback). Issue a temporary access pass or sign the caller out everywhere instead.";

    public IEnumerable<CallerFactor> Challengeable => Factors.Where(f => f.Method is not null);

    /// <summary>Account actions on this caller done outside the portal in the last week (reconciliation), newest first.</summary>
    public IReadOnlyList<AuditRecord> OutsideActions { get; init; } = [];

    /// <summary>Mastered on-premises (Entra <c>onPremisesSyncEnabled</c>): no password reset here.</summary>
    public bool DirectorySynced { get; init; }

    /// <summary>The caller's login as the IdP has it, for the agent's screen only (never stored or logged).</summary>
    public string Login { get; init; } = "";

    /// <summary>The caller's e-mail address as the IdP has it, for the agent's screen only; null when there is none.</summary>
    public string? Email { get; init; }

    /// <summary>Who the caller is at the IdP (name, title, department, manager, dates), read for this screen only.</summary>
    public CallerDetails Details { get; init; } = CallerDetails.None;

    /// <summary>Whether the caller is a privileged account (V7), shown at look-up, before any verification.</summary>
    public PrivilegeState Privilege { get; init; } = PrivilegeState.NotPrivileged;

    /// <summary>What the console says about <see cref="Privilege"/>; null for an account that is not privileged.</summary>
    public string? PrivilegeNote => Privilege switch
    {
        PrivilegeState.Privileged => "Privileged account (an IdP administrator): every action on it needs a second agent's approval: ask for it below while you verify the caller.",
        PrivilegeState.Unknown => "The identity provider would not say whether this is a privileged account: every action on it needs a second agent's approval: ask for it below while you verify the caller.",
        PrivilegeState.IdpUnavailable => "Could not check whether this is a privileged account (the identity provider did not answer); each action checks again.",
        _ => null,
    };
}

/// <summary>
/// Caller look-up and verification: the portal's core promise that a voice on the phone is never enough.
/// Every step is audited; every failure counts against the caller's limits across instances.
/// </summary>
public sealed partial class VerificationService(
    TenantDirectories directories,
    VerificationStore store,
    CallerReferences references,
    ICallerPseudonymizer pseudonyms,
    IAuditTrail audit,
    IAlertNotifier alerts,
    IUsageMeter usage,
    ILogger<VerificationService> logger,
    TenantSecrets secrets,
    Portal.Idp.Entra.IEntraPushChallenge entraPush,
    TimeProvider clock)
{
    public async Task<Outcome<CallerView>> LookupAsync(AgentRequest request, string login, CancellationToken ct)
    {
        var (agent, tenant, _) = request;
        var directory = directories.For(tenant);
        var found = await directory.FindCallerAsync(login, ct);
        if (!found.IsSuccess)
        {
            await audit.RecordAsync(AuditEntries.For(request, "caller.lookup", AuditOutcome.Failed, found.Error.Code) with { CallerLogin = login }, ct);
            return IdpRefusal("lookup", tenant, found.Error);
        }

        var caller = found.Value;
        var factors = await directory.ListFactorsAsync(caller.Id, ct);
        if (!factors.IsSuccess)
        {
            await audit.RecordAsync(CallerEntry(request, "caller.lookup", AuditOutcome.Failed, caller.Id, caller.Login, factors.Error.Code), ct);
            return IdpRefusal("factors", tenant, factors.Error);
        }

        // V7 before any verification: the agent knows at once that an action will need a second agent's approval.
        var privilege = await PrivilegedTargets.CheckAsync(directory, tenant, caller.Id, ct);
        var idHash = pseudonyms.HashCallerId(tenant.Id, caller.Id);
        var gate = await store.CheckGateAsync(tenant.Id, idHash, forAction: false, ct);
        await audit.RecordAsync(CallerEntry(request, "caller.lookup", AuditOutcome.Succeeded, caller.Id, caller.Login, null), ct);
        var masked = PiiMask.Email(caller.Login);
        return new CallerView(references.ForForm(agent, caller.Id, masked), masked, PiiMask.Email(caller.Email), caller.Status, WithEntraPush(tenant, factors.Value), gate)
        {
            OutsideActions = tenant.Reconciliation.Enabled ? await OutsideActionsAsync(tenant.Id, idHash, ct) : [],
            DirectorySynced = caller.DirectorySynced,
            Privilege = privilege.State,
            Login = caller.Login,
            Email = caller.Email,
            Details = caller.Details,
        };
    }

    /// <summary>
    /// The caller's account actions done outside the portal in the last week, as reconciliation read them from the IdP's
    /// log (docs/audit.md, "Outside the portal"): the agent is told before acting on an account someone else just changed.
    /// </summary>
    private async Task<IReadOnlyList<AuditRecord>> OutsideActionsAsync(string tenantId, string idHash, CancellationToken ct)
    {
        // One indexed query per kind (the caller's other records, however many, cannot push one out of view), in parallel.
        var from = clock.GetUtcNow() - OutsideActionWindow;
        var pages = await Task.WhenAll(Enum.GetValues<AccountActionKind>().Select(kind => audit.QueryAsync(
            tenantId,
            new AuditQuery { CallerIdHash = idHash, Action = Reconciliation.ReconciliationWatcher.ActionOf(kind), From = from, PageSize = OutsideActionsPerKind },
            ct)));
        return [.. pages.SelectMany(p => p.Records).OrderByDescending(r => r.At)];
    }

    internal static readonly TimeSpan OutsideActionWindow = TimeSpan.FromDays(7);

    /// <summary>The newest records of each kind shown: a look-up reads at least one document per kind (docs/PERFORMANCE.md).</summary>
    internal const int OutsideActionsPerKind = 5;

    public async Task<Outcome<string>> StartPushAsync(AgentRequest request, string? callerRef, string factorId, CancellationToken ct)
    {
        var (agent, tenant, _) = request;
        if (references.FromForm(agent, callerRef) is not var (callerId, maskedLogin))
        {
            return Refusal.StaleForm;
        }

        var idHash = pseudonyms.HashCallerId(tenant.Id, callerId);
        var directory = directories.For(tenant);
        var factor = await FindChallengeableAsync(directory, callerId, factorId, VerificationMethods.OktaPush, ct);
        if (factor.Refusal is not null)
        {
            return factor.Refusal;
        }

        // V4: the push is counted (push limit and failure budget) before the IdP sends it; approval refunds it.
        var (gate, reservation) = await store.TryReserveAttemptAsync(tenant.Id, idHash, isPush: true, tenant.Verification, ct);
        if (gate != CallerGate.Open || reservation is null)
        {
            await audit.RecordAsync(CallerEntry(request, "verification.push.start", AuditOutcome.Denied, callerId, maskedLogin, GateCode(gate)) with { Method = VerificationMethods.OktaPush }, ct);
            return GateRefusal(gate);
        }

        var pending = await audit.BeginAsync(CallerEntry(request, "verification.push.start", AuditOutcome.Pending, callerId, maskedLogin, null) with { Method = VerificationMethods.OktaPush }, ct);
        var push = await directory.StartPushAsync(callerId, factorId, request.Origin.Challenge, ct);
        if (!push.IsSuccess)
        {
            await store.RefundAsync(tenant.Id, idHash, reservation, succeeded: false, CancellationToken.None);
            await audit.CompleteAsync(pending, AuditOutcome.Failed, push.Error.Code, ct);
            return IdpRefusal("push", tenant, push.Error);
        }

        var now = store.Now;
        var lifetime = now.AddMinutes(10);
        var record = new PendingVerification
        {
            Id = PortalIds.New(),
            TenantId = tenant.Id,
            AgentSessionId = agent.SessionId,
            AgentSubject = agent.Subject,
            CallerIdHash = idHash,
            CallerMaskedLogin = maskedLogin,
            CallerRefProtected = references.AtRest(tenant.Id, callerId),
            Method = VerificationMethods.OktaPush,
            CorrectAnswer = push.Value.CorrectAnswer,
            PollRefProtected = references.AtRest(tenant.Id, push.Value.PollReference),
            State = ChallengeState.Waiting,
            CreatedAt = now,
            AttemptReservationId = reservation,

            // V2: whatever the IdP says, a push not answered within ten minutes is void.
            ExpiresAt = push.Value.ExpiresAt < lifetime ? push.Value.ExpiresAt : lifetime,
        };
        await store.CreatePendingAsync(record, ct);
        await audit.CompleteAsync(pending, AuditOutcome.Succeeded, null, ct);
        return record.Id;
    }

    public async Task<PendingVerification?> GetPendingAsync(AgentContext agent, string pendingId, CancellationToken ct)
    {
        var pending = await store.GetPendingAsync(agent.TenantId, pendingId, ct);

        // Bound to the agent session that started it: another agent (or the same agent after sign-out) sees nothing.
        return pending is not null && pending.AgentSessionId == agent.SessionId && pending.AgentSubject == agent.Subject ? pending : null;
    }

    /// <summary>Asks the IdP how the push went and, the first time it is approved, opens the verification session.</summary>
    public async Task<Outcome<PendingVerification>> PollAsync(AgentRequest request, string pendingId, CancellationToken ct)
    {
        var (agent, tenant, _) = request;
        var pending = await GetPendingAsync(agent, pendingId, ct);
        if (pending is null || pending.State != ChallengeState.Waiting)
        {
            return pending;
        }

        if (pending.Method == VerificationMethods.OidcStepUp)
        {
            // A step-up is decided by the caller's own sign-in (StepUpService); polling only notices that it ran out (V2).
            var stepUpCaller = references.FromRest(tenant.Id, pending.CallerRefProtected);
            return store.Now < pending.ExpiresAt || stepUpCaller is null
                ? pending
                : await FailAsync(request, pending, stepUpCaller, ChallengeState.TimedOut, ct, StepUpResultAction, "stepup_timed_out");
        }

        if (pending.Method == VerificationMethods.EntraPush)
        {
            // Decided inside the POST that sent it; a push whose POST was abandoned can only run out (V2).
            return await ExpireEntraPushAsync(request, pending, ct);
        }

        var callerId = references.FromRest(tenant.Id, pending.CallerRefProtected);
        var pollRef = references.FromRest(tenant.Id, pending.PollRefProtected);
        if (callerId is null || pollRef is null)
        {
            return new Outcome<PendingVerification>(pending, new Refusal("unreadable", "This verification can no longer be read. Start a new one."));
        }

        PushState state;
        if (store.Now >= pending.ExpiresAt)
        {
            state = PushState.TimedOut;
        }
        else if (pending.LastPolledAt is { } last && store.Now - last < VerificationStore.PushPollInterval && store.Now >= last
            || !await store.TryClaimPushPollAsync(tenant.Id, pending.Id, ct))
        {
            // Another tab or instance asked the IdP moments ago; what it learnt reaches the pending document, read here next time.
            return pending;
        }
        else
        {
            var polled = await directories.For(tenant).PollPushAsync(callerId, pollRef, ct);
            if (!polled.IsSuccess)
            {
                return new Outcome<PendingVerification>(pending, IdpRefusal("poll", tenant, polled.Error));
            }

            state = polled.Value;
        }

        return state switch
        {
            PushState.Waiting => pending,
            PushState.Approved => await ApproveAsync(request, pending, callerId, ct),
            PushState.Rejected => await FailAsync(request, pending, callerId, ChallengeState.Rejected, ct),
            _ => await FailAsync(request, pending, callerId, ChallengeState.TimedOut, ct),
        };
    }

    public async Task<Outcome<string>> VerifyTotpAsync(AgentRequest request, string? callerRef, string factorId, string? code, CancellationToken ct)
    {
        var (agent, tenant, _) = request;
        if (references.FromForm(agent, callerRef) is not var (callerId, maskedLogin))
        {
            return Refusal.StaleForm;
        }

        var passCode = (code ?? "").Trim();
        if (passCode.Length is < 6 or > 8 || !passCode.All(char.IsAsciiDigit))
        {
            return new Refusal("malformed_code", "A code is 6 to 8 digits. Ask the caller to read it again.");
        }

        var idHash = pseudonyms.HashCallerId(tenant.Id, callerId);
        var directory = directories.For(tenant);
        var factor = await FindChallengeableAsync(directory, callerId, factorId, VerificationMethods.OktaTotp, ct);
        if (factor.Refusal is not null)
        {
            return factor.Refusal;
        }

        // V4: the attempt is charged to the caller before the IdP sees the code, in one atomic update, so
        // parallel requests on any number of instances cannot get more codes checked than the policy allows.
        var (gate, reservation) = await store.TryReserveAttemptAsync(tenant.Id, idHash, isPush: false, tenant.Verification, ct);
        if (gate != CallerGate.Open || reservation is null)
        {
            await audit.RecordAsync(CallerEntry(request, "verification.totp", AuditOutcome.Denied, callerId, maskedLogin, GateCode(gate)) with { Method = VerificationMethods.OktaTotp }, ct);
            return GateRefusal(gate);
        }

        var entry = CallerEntry(request, "verification.totp", AuditOutcome.Pending, callerId, maskedLogin, null) with { Method = VerificationMethods.OktaTotp };

        // V3: a code is accepted once for a caller, whatever the IdP would say about it; checked before the IdP sees it.
        if (!await store.TryUseTotpAsync(tenant.Id, pseudonyms.HashValue(tenant.Id, "totp-use", callerId + ":" + passCode), ct))
        {
            await CountFailureAsync(tenant, idHash, reservation, alarm: false, VerificationMethods.OktaTotp, callerId, ct);
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Alarm, Reason = "code_replayed" }, ct);
            return new Refusal("code_replayed", "That code was already used. Ask the caller to wait for the next code.");
        }

        var pending = await audit.BeginAsync(entry, ct);
        var result = await directory.VerifyTotpAsync(callerId, factorId, passCode, request.Origin.Challenge, ct);
        if (!result.IsSuccess && result.Error.Kind != IdpErrorKind.InvalidPasscode)
        {
            // The IdP did not judge the code (outage, refusal): the attempt is given back.
            await store.RefundAsync(tenant.Id, idHash, reservation, succeeded: false, CancellationToken.None);
            await audit.CompleteAsync(pending, AuditOutcome.Failed, result.Error.Code, ct);
            return IdpRefusal("totp", tenant, result.Error);
        }

        var outcome = result.IsSuccess ? result.Value : TotpOutcome.Invalid;
        if (outcome != TotpOutcome.Accepted)
        {
            await CountFailureAsync(tenant, idHash, reservation, alarm: false, VerificationMethods.OktaTotp, callerId, ct);
            var replayed = outcome == TotpOutcome.Replayed;
            await audit.CompleteAsync(pending, replayed ? AuditOutcome.Alarm : AuditOutcome.Failed, replayed ? "code_replayed" : "wrong_code", ct);
            return replayed
                ? new Refusal("code_replayed", "That code was already used. Ask the caller to wait for the next code.")
                : new Refusal("wrong_code", "The code is not right. Ask the caller to read the current code again.");
        }

        var session = await OpenSessionAsync(agent, tenant, idHash, maskedLogin, callerId, VerificationMethods.OktaTotp, ct);
        await store.RefundAsync(tenant.Id, idHash, reservation, succeeded: true, ct);
        await audit.CompleteAsync(pending, AuditOutcome.Succeeded, null, ct);
        return session.Id;
    }

    /// <summary>
    /// Whether the verified caller is mastered on-premises (Entra <c>onPremisesSyncEnabled</c>), so that the session
    /// page does not offer a password reset Graph would refuse. Read now, not at look-up: one Graph read per page.
    /// </summary>
    /// <summary>
    /// The verified caller as the IdP knows them now (status, directory sync), read for the session page only and never
    /// kept; null when the IdP does not say (the page then offers what the tenant allows and the action decides).
    /// </summary>
    public async Task<CallerProfile?> GetCallerNowAsync(TenantSettings tenant, VerificationSession session, CancellationToken ct)
    {
        if (references.FromRest(tenant.Id, session.CallerRefProtected) is not { } callerId)
        {
            return null;
        }

        try
        {
            var profile = await directories.For(tenant).GetCallerAsync(callerId, ct);
            return profile.IsSuccess ? profile.Value : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    public async Task<VerificationSession?> GetSessionAsync(AgentContext agent, string sessionId, CancellationToken ct)
    {
        var session = await store.GetSessionAsync(agent.TenantId, sessionId, ct);
        return session is not null && session.AgentSessionId == agent.SessionId && session.AgentSubject == agent.Subject && store.Now < session.ExpiresAt ? session : null;
    }

    /// <summary>
    /// Ends a step-up with the verdict on the caller's sign-in: approved opens the verification session exactly once
    /// (as a push approval does); refused counts as a failure, and a wrong subject is an alarm (V6, V8).
    /// </summary>
    public Task<PendingVerification> CompleteStepUpAsync(RequestContext origin, TenantSettings tenant, PendingVerification pending, string callerId, string? refusedReason, bool alarm, CancellationToken ct, bool countAgainstCaller = true)
    {
        // The caller's browser makes this request: the audit names the agent who started the step-up.
        var request = new AgentRequest(new AgentContext(tenant.Id, pending.AgentSessionId, pending.AgentSubject, pending.AgentMaskedLogin ?? "", []), tenant, origin);
        return refusedReason is null
            ? ApproveAsync(request, pending, callerId, ct, StepUpResultAction)
            : FailAsync(request, pending, callerId, ChallengeState.Rejected, ct, StepUpResultAction, refusedReason, alarm, countAgainstCaller);
    }

    private const string StepUpResultAction = "verification.stepup.result";

    private async Task<PendingVerification> ApproveAsync(AgentRequest request, PendingVerification pending, string callerId, CancellationToken ct, string resultAction = "verification.push.result")
    {
        var (agent, tenant, _) = request;
        var sessionId = PortalIds.New();

        // Only the request that moves the push from waiting to approved opens a session, even when two
        // instances poll the same push at once.
        var won = await store.CompletePendingAsync(tenant.Id, pending.Id, ChallengeState.Approved, sessionId, ct);
        if (won is null)
        {
            return await store.GetPendingAsync(tenant.Id, pending.Id, ct) ?? pending;
        }

        await OpenSessionAsync(agent, tenant, pending.CallerIdHash, pending.CallerMaskedLogin, callerId, pending.Method, ct, sessionId);
        if (pending.AttemptReservationId is { } reserved)
        {
            await store.RefundAsync(tenant.Id, pending.CallerIdHash, reserved, succeeded: true, ct);
        }
        else
        {
            await store.RecordSuccessAsync(tenant.Id, pending.CallerIdHash, ct);
        }

        await audit.RecordAsync(CallerEntry(request, resultAction, AuditOutcome.Succeeded, callerId, pending.CallerMaskedLogin, "approved") with { Method = pending.Method }, ct);
        return won;
    }

    private async Task<PendingVerification> FailAsync(
        AgentRequest request, PendingVerification pending, string callerId, ChallengeState state, CancellationToken ct,
        string resultAction = "verification.push.result", string? reason = null, bool? alarmOverride = null, bool countAgainstCaller = true)
    {
        var (agent, tenant, _) = request;
        var won = await store.CompletePendingAsync(tenant.Id, pending.Id, state, null, ct, reason);
        if (won is null)
        {
            return await store.GetPendingAsync(tenant.Id, pending.Id, ct) ?? pending;
        }

        // V6: a rejected push (a wrong number, or the caller's "not me") is a security event, not a typo.
        var alarm = alarmOverride ?? state == ChallengeState.Rejected;
        reason ??= alarm ? "push_rejected" : "push_timed_out";
        if (countAgainstCaller)
        {
            await CountFailureAsync(tenant, pending.CallerIdHash, pending.AttemptReservationId, alarm, pending.Method, callerId, ct);
        }

        if (alarm)
        {
            PortalLog.Alarm(logger, tenant.Id, reason);

            // V6: the tenant's security team hears of it through their webhook, delivered off the request path.
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

        await audit.RecordAsync(CallerEntry(request, resultAction, alarm ? AuditOutcome.Alarm : AuditOutcome.Failed, callerId, pending.CallerMaskedLogin, reason) with { Method = pending.Method }, ct);
        return won;
    }

    private async Task<VerificationSession> OpenSessionAsync(AgentContext agent, TenantSettings tenant, string idHash, string maskedLogin, string callerId, string method, CancellationToken ct, string? id = null)
    {
        var now = store.Now;
        var session = new VerificationSession
        {
            Id = id ?? PortalIds.New(),
            TenantId = tenant.Id,
            AgentSessionId = agent.SessionId,
            AgentSubject = agent.Subject,
            CallerIdHash = idHash,
            CallerMaskedLogin = maskedLogin,
            CallerRefProtected = references.AtRest(tenant.Id, callerId),
            Method = method,
            VerifiedAt = now,
            ExpiresAt = now.AddMinutes(tenant.Verification.SessionMinutes),
        };
        await store.CreateSessionAsync(session, ct);
        await usage.RecordVerificationAsync(tenant.Id, method, AuditOutcome.Succeeded, callerId, ct);
        return session;
    }

    private static async Task<Outcome<CallerFactor>> FindChallengeableAsync(ICallerDirectory directory, string callerId, string factorId, string method, CancellationToken ct)
    {
        // The factor list is read again rather than trusted from the form: only an ACTIVE factor of an
        // accepted kind may be challenged (V1), whatever id a crafted form names.
        var factors = await directory.ListFactorsAsync(callerId, ct);
        if (!factors.IsSuccess)
        {
            return new Refusal(factors.Error.Code, factors.Error.AgentMessage, RefusalKind.IdpFailed);
        }

        var factor = factors.Value.FirstOrDefault(f => f.Id == factorId && f.Method == method);
        if (factor is not null)
        {
            return factor;
        }

        // The IdP's own reason when it has one for this factor (e.g. its push would be answered on an untrusted host).
        var reason = factors.Value.FirstOrDefault(f => f.Id == factorId)?.NotChallengeableReason;
        return new Refusal("factor_not_challengeable", reason is null
            ? "That factor cannot be used to verify this caller."
            : "That factor cannot be used to verify this caller: " + reason + ".");
    }

    private Refusal IdpRefusal(string operation, TenantSettings tenant, IdpError error)
    {
        PortalLog.IdpFailed(logger, operation, tenant.Id, error.Kind.ToString(), error.Code);
        return new Refusal(error.Code, error.AgentMessage, RefusalKind.IdpFailed);
    }

    /// <summary>
    /// A failed verification counts against the caller's limits (V4) and is metered by method and outcome for billing.
    /// A reserved attempt was charged before the IdP call: only the alarm is added.
    /// </summary>
    private async Task CountFailureAsync(TenantSettings tenant, string callerIdHash, string? reservation, bool alarm, string method, string callerId, CancellationToken ct)
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

    private static string GateCode(CallerGate gate) => gate switch
    {
        CallerGate.Alarm => "caller_alarm",
        CallerGate.CoolingDown => "cooling_down",
        CallerGate.PushLimit => "push_limit",
        _ => "failure_limit",
    };

    internal static Refusal GateRefusal(CallerGate gate) => gate switch
    {
        CallerGate.Alarm => new Refusal("caller_alarm", "A push to this caller was rejected recently. Verification and account changes are blocked for now; your security team has been alerted."),
        CallerGate.CoolingDown => new Refusal("cooling_down", "Too many failed attempts for this caller. Try again after the cool-down."),
        CallerGate.PushLimit => new Refusal("push_limit", "Too many pushes were sent to this caller recently. Wait before sending another, or use a code."),
        _ => new Refusal("failure_limit", "This caller has failed verification too often. Escalate to your security team."),
    };

    private static AuditEntry CallerEntry(AgentRequest request, string action, AuditOutcome outcome, string callerId, string callerLogin, string? reason) =>
        AuditEntries.For(request, action, outcome, reason) with { CallerId = callerId, CallerLogin = callerLogin };

}
