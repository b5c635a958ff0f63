using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification.Methods;

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

    /// <summary>Why <see cref="Privilege"/> is unknown, as the IdP adapter told it (no PII); null when it is not unknown or no reason was given.</summary>
    public string? PrivilegeUnknownBecause { get; init; }

    /// <summary>What the console says about <see cref="Privilege"/>; null for an account that is not privileged.</summary>
    public string? PrivilegeNote => Privilege switch
    {
        PrivilegeState.Privileged => "Privileged account (an IdP administrator): every action on it needs a second agent's approval: ask for it below while you verify the caller.",
        PrivilegeState.Unknown when PrivilegeUnknownBecause is { } why => "Whether this is a privileged account is not known (" + why.TrimEnd('.') + "): every action on it needs a second agent's approval: ask for it below while you verify the caller.",
        PrivilegeState.Unknown => "The identity provider would not say whether this is a privileged account: every action on it needs a second agent's approval: ask for it below while you verify the caller.",
        PrivilegeState.IdpUnavailable => "Could not check whether this is a privileged account (the identity provider did not answer); each action checks again.",
        _ => null,
    };

    /// <summary>Whether the caller is an executive target (docs/tenancy.md), shown at look-up.</summary>
    public ExecutiveState Executive { get; init; } = ExecutiveState.NotExecutive;

    /// <summary>What the console says about <see cref="Executive"/>; null for a caller who is not one.</summary>
    public string? ExecutiveNote => Executive switch
    {
        ExecutiveState.Executive => ExecutiveTargets.Note,
        ExecutiveState.Unknown => "Could not check whether this caller is an executive target (the identity provider did not say): each action treats them as one, so verify by two different methods.",
        _ => null,
    };

    /// <summary>For a look-up to verify by a second method: the live verification it follows; null for a first verification.</summary>
    public PriorVerification? Prior { get; init; }

    /// <summary>Whether the console offers this method: any, except the method of <see cref="Prior"/> (the second must be different).</summary>
    public bool Offers(string? method) => Prior is null || !string.Equals(Prior.Method, method, StringComparison.Ordinal);
}

/// <summary>
/// Caller look-up and verification: the portal's core promise that a voice on the phone is never enough.
/// Every step is audited; every failure counts against the caller's limits across instances.
/// </summary>
public sealed class VerificationService(
    TenantDirectories directories,
    VerificationStore store,
    CallerReferences references,
    ICallerPseudonymizer pseudonyms,
    IAuditTrail audit,
    VerificationVerdicts verdicts,
    IEnumerable<IVerificationMethod> methods,
    TimeProvider clock)
{
    private readonly Dictionary<string, IVerificationMethod> _methods = methods.ToDictionary(m => m.Name, StringComparer.Ordinal);

    public async Task<Outcome<CallerView>> LookupAsync(AgentRequest request, string login, CancellationToken ct)
    {
        var (agent, tenant, _) = request;
        var directory = directories.For(tenant);
        var found = await directory.FindCallerAsync(login, ct);
        if (!found.IsSuccess)
        {
            await audit.RecordAsync(AuditEntries.For(request, "caller.lookup", AuditOutcome.Failed, found.Error.Code) with { CallerLogin = login }, ct);
            return verdicts.IdpRefusal("lookup", tenant, found.Error);
        }

        var caller = found.Value;
        var factors = await directory.ListFactorsAsync(caller.Id, ct);
        if (!factors.IsSuccess)
        {
            await audit.RecordAsync(VerificationVerdicts.CallerEntry(request, "caller.lookup", AuditOutcome.Failed, caller.Id, caller.Login, factors.Error.Code), ct);
            return verdicts.IdpRefusal("factors", tenant, factors.Error);
        }

        // V7 before any verification: the agent knows at once that an action will need a second agent's approval.
        var privilege = await PrivilegedTargets.CheckAsync(directory, tenant, caller.Id, ct);
        var executive = await ExecutiveTargets.CheckAsync(directory, tenant, caller.Id, ct);
        var idHash = pseudonyms.HashCallerId(tenant.Id, caller.Id);
        var gate = await store.CheckGateAsync(tenant.Id, idHash, forAction: false, ct);
        await audit.RecordAsync(VerificationVerdicts.CallerEntry(request, "caller.lookup", AuditOutcome.Succeeded, caller.Id, caller.Login, null), ct);
        var masked = PiiMask.Email(caller.Login);
        return new CallerView(references.ForForm(agent, caller.Id, masked), masked, PiiMask.Email(caller.Email), caller.Status, EntraPushMethod.WithEntraPush(tenant, factors.Value), gate)
        {
            OutsideActions = tenant.Reconciliation.Enabled ? await OutsideActionsAsync(tenant.Id, idHash, ct) : [],
            DirectorySynced = caller.DirectorySynced,
            Privilege = privilege.State,
            Executive = executive,
            PrivilegeUnknownBecause = privilege.UnknownBecause?.AgentMessage,
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

    /// <summary>
    /// Starts verifying the caller the form names by <paramref name="method"/> (<see cref="VerificationMethods"/>). What
    /// every method shares happens here, in this order: the caller reference must be this agent session's; the method
    /// must not be one the tenant's heightened-threat mode refuses; the request must be well formed for the method; the factor must be one the IdP lists now for this method (V1); the caller's
    /// counters must allow an attempt and are charged for it before the IdP is asked (V4). Every start that gets past
    /// the caller reference leaves an audit record under the method's start action, refused ones included.
    /// </summary>
    public async Task<Outcome<VerificationStep>> StartAsync(AgentRequest request, string method, string? callerRef, string? factorId, string? answer, CancellationToken ct, string? priorVerificationId = null)
    {
        var (agent, tenant, _) = request;
        if (references.FromForm(agent, callerRef) is not var (callerId, maskedLogin))
        {
            return Refusal.StaleForm;
        }

        var way = _methods[method];
        var caller = new CallerBinding(callerId, pseudonyms.HashCallerId(tenant.Id, callerId), maskedLogin, references.AtRest(tenant.Id, callerId));
        var entry = VerificationVerdicts.CallerEntry(request, way.StartAction, AuditOutcome.Pending, callerId, maskedLogin, null) with { Method = way.Name };
        if (HeightenedThreat.Refuses(tenant, way.Name))
        {
            // Heightened-threat mode (docs/tenancy.md): a method below its floor is refused before anything reaches the caller.
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = HeightenedThreat.Code }, ct);
            return HeightenedThreat.RefusalOf(way.Name);
        }

        PriorVerification? prior = null;
        if (priorVerificationId is not null)
        {
            var (found, refused) = await PriorAsync(request, caller, way.Name, priorVerificationId, ct);
            if (refused is not null)
            {
                await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = refused.Code }, ct);
                return refused;
            }

            prior = found;
        }

        if (way.CheckRequest(tenant, answer) is { } malformed)
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = malformed.Code }, ct);
            return malformed;
        }

        var factors = await directories.For(tenant).ListFactorsAsync(callerId, ct);
        if (!factors.IsSuccess)
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Failed, Reason = factors.Error.Code }, ct);
            return verdicts.IdpRefusal("factors", tenant, factors.Error);
        }

        var factor = factorId ?? "";
        if (way.CheckFactor(tenant, factors.Value, factor) is { } notOffered)
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = notOffered.Code }, ct);
            return notOffered;
        }

        var (gate, reservation) = await store.TryReserveAttemptAsync(tenant.Id, caller.IdHash, way.IsPush, tenant.Verification, ct);
        if (gate != CallerGate.Open || reservation is null)
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = CallerGates.Code(gate) }, ct);
            return CallerGates.Refusal(gate);
        }

        var attempt = new VerificationAttempt(request, caller, factor, answer, reservation, entry, store.Now) { Prior = prior };
        try
        {
            return await way.StartAsync(attempt, ct);
        }
        catch (Exception) when (!attempt.Settled)
        {
            // Nothing was judged and no challenge carries the charge (the audit or the store failed, or the request
            // was abandoned): the attempt is given back, whatever cancelled this request.
            await store.RefundAsync(tenant.Id, caller.IdHash, reservation, succeeded: false, CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// A second method (docs/tenancy.md, "Executive targets: two independent methods") follows a verification of the same
    /// tenant, agent session and agent, of the same caller, still live, by a different method. The refusal codes are
    /// <c>prior_verification_invalid</c> (none such: ended, another agent session's, another caller's, or no id at all),
    /// <c>prior_verification_expired</c> (still stored but past its end) and <c>second_method_same</c>; the caller is not
    /// charged for any of them.
    /// </summary>
    private async Task<Outcome<PriorVerification>> PriorAsync(AgentRequest request, CallerBinding caller, string method, string priorVerificationId, CancellationToken ct)
    {
        var (agent, tenant, _) = request;
        var prior = VerificationId.TryParse(priorVerificationId, out var id) ? await store.GetSessionAsync(tenant.Id, id.Value, ct) : null;
        if (prior is null || prior.TenantId != tenant.Id || prior.AgentSessionId != agent.SessionId || prior.AgentSubject != agent.Subject || prior.CallerIdHash != caller.IdHash)
        {
            // An ended verification is no longer returned by the store at all: it lands here too.
            return new Refusal("prior_verification_invalid", "The first verification this should follow has ended, is not yours, or is of another caller. Look the caller up and verify them by one method, then by a second, different one.");
        }

        // Defence in depth, kept on purpose: both stores stop returning a verification at its end (it lands in the refusal
        // above), so only a document kept past its verification reaches this (one written by another version, or a
        // store whose expiry lags); the action checks both ends again (ExecutiveTargets.ChainHolds, the consume).
        if (store.Now >= prior.ExpiresAt)
        {
            return new Refusal("prior_verification_expired", "The first verification has expired. Verify the caller again by one method, then by a second, different one.");
        }

        if (string.Equals(prior.Method, method, StringComparison.Ordinal))
        {
            return new Refusal("second_method_same", $"The caller was already verified by {MethodLabels.Name(method)}. The second verification must use a different method.");
        }

        return new PriorVerification(prior.Id, prior.Method) { Until = prior.ExpiresAt };
    }

    /// <summary>
    /// The caller of the agent's own live verification looked up again, to verify them by a second method: the console's
    /// page of the caller, carrying that verification as <see cref="CallerView.Prior"/>. Null when the verification is not
    /// this agent session's or has ended; a refusal when the IdP does not give the caller.
    /// </summary>
    public async Task<Outcome<CallerView>> LookupForSecondMethodAsync(AgentRequest request, VerificationId verificationId, CancellationToken ct)
    {
        var session = await GetSessionAsync(request.Agent, verificationId, ct);
        if (session is null || session.PriorVerificationId is not null)
        {
            return new Refusal("no_verification", "This verification has expired or is not yours. Verify the caller again.");
        }

        if (await GetCallerNowAsync(request.Tenant, session, ct) is not { } caller)
        {
            return new Refusal("unreadable_verification", "The identity provider did not give this caller now. Look the caller up again.");
        }

        var (view, refusal) = await LookupAsync(request, caller.Login, ct);
        return view is null ? refusal! : view with { Prior = new PriorVerification(session.Id, session.Method) };
    }

    public async Task<PendingVerification?> GetPendingAsync(AgentContext agent, ChallengeId pendingId, CancellationToken ct)
    {
        var pending = await store.GetPendingAsync(agent.TenantId, pendingId.Value, ct);

        // Bound to the agent session that started it: another agent (or the same agent after sign-out) sees nothing.
        return pending is not null && pending.AgentSessionId == agent.SessionId && pending.AgentSubject == agent.Subject ? pending : null;
    }

    /// <summary>
    /// What the agent's challenge has come to: its method asks the IdP or notices that it ran out; the first time it is
    /// approved, the verification session opens.
    /// </summary>
    public async Task<Outcome<PendingVerification>> PollAsync(AgentRequest request, ChallengeId pendingId, CancellationToken ct)
    {
        var pending = await GetPendingAsync(request.Agent, pendingId, ct);
        if (pending is null || pending.State != ChallengeState.Waiting)
        {
            return pending;
        }

        if (references.FromRest(request.Tenant.Id, pending.CallerRefProtected) is not { } callerId || !_methods.TryGetValue(pending.Method, out var method))
        {
            return new Outcome<PendingVerification>(pending, new Refusal("unreadable", "This verification can no longer be read. Start a new one."));
        }

        return await method.PollAsync(request, pending, callerId, ct);
    }

    /// <summary>
    /// What the person who answered the call-back said (<see cref="CallBackMethod.ConfirmAsync"/>): the code, or that they
    /// never called. Only the agent session that started the call-back can answer it: a code only while it waits, "they
    /// did not call us" also once it has ended.
    /// </summary>
    public async Task<Outcome<PendingVerification>> ConfirmCallBackAsync(AgentRequest request, ChallengeId pendingId, string? code, bool notMe, CancellationToken ct)
    {
        var pending = await GetPendingAsync(request.Agent, pendingId, ct);
        if (pending is null || pending.Method != VerificationMethods.RecoveryCallBack || (pending.State != ChallengeState.Waiting && !notMe))
        {
            return pending;
        }

        if (references.FromRest(request.Tenant.Id, pending.CallerRefProtected) is not { } callerId || _methods[pending.Method] is not CallBackMethod callBack)
        {
            return new Outcome<PendingVerification>(pending, new Refusal("unreadable", "This verification can no longer be read. Start a new one."));
        }

        return await callBack.ConfirmAsync(request, pending, callerId, code, notMe, ct);
    }

    /// <summary>
    /// The caller a waiting challenge is about, as the IdP knows them now (the call-back's page shows their work phone
    /// on file), read for the page only and never kept; null when the IdP does not say.
    /// </summary>
    public async Task<CallerProfile?> GetCallerNowAsync(TenantSettings tenant, PendingVerification pending, CancellationToken ct) =>
        references.FromRest(tenant.Id, pending.CallerRefProtected) is { } callerId ? await ReadCallerAsync(tenant, callerId, ct) : null;

    /// <summary>
    /// The verified caller as the IdP knows them now (status, directory sync), read for the session page only and never
    /// kept; null when the IdP does not say (the page then offers what the tenant allows and the action decides).
    /// </summary>
    public async Task<CallerProfile?> GetCallerNowAsync(TenantSettings tenant, VerificationSession session, CancellationToken ct)
    {
        return references.FromRest(tenant.Id, session.CallerRefProtected) is { } callerId ? await ReadCallerAsync(tenant, callerId, ct) : null;
    }

    private async Task<CallerProfile?> ReadCallerAsync(TenantSettings tenant, string callerId, CancellationToken ct)
    {
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

    /// <summary>
    /// Where a verification stands with the executive-target rule (docs/tenancy.md), for its page: the same membership
    /// read and the same chain check the action makes (<see cref="ExecutiveTargets"/>), so the page offers no action the
    /// action would refuse.
    /// </summary>
    public async Task<ExecutiveChain> ExecutiveChainAsync(TenantSettings tenant, VerificationSession session, CancellationToken ct)
    {
        if (references.FromRest(tenant.Id, session.CallerRefProtected) is not { } callerId)
        {
            return ExecutiveChain.NotExecutive;
        }

        if (!ExecutiveTargets.NeedsSecondMethod(await ExecutiveTargets.CheckAsync(directories.For(tenant), tenant, callerId, ct)))
        {
            return ExecutiveChain.NotExecutive;
        }

        if (session.PriorVerificationId is not { } priorId)
        {
            return ExecutiveChain.NeedsSecond;
        }

        var prior = await store.GetSessionAsync(tenant.Id, priorId, ct);
        return ExecutiveTargets.ChainHolds(session, prior, store.Now) ? ExecutiveChain.Holds : ExecutiveChain.PriorEnded;
    }

    public async Task<VerificationSession?> GetSessionAsync(AgentContext agent, VerificationId sessionId, CancellationToken ct)
    {
        var session = await store.GetSessionAsync(agent.TenantId, sessionId.Value, ct);
        return session is not null && session.AgentSessionId == agent.SessionId && session.AgentSubject == agent.Subject && store.Now < session.ExpiresAt ? session : null;
    }
}
