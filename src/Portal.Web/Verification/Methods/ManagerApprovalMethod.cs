using Portal.Audit;
using Portal.Idp;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification.Methods;

/// <summary>
/// <c>recovery.manager</c>: a recovery method for a caller who cannot use their own factors (docs/recovery.md). The
/// portal finds the caller's manager at the IdP (never a name the caller gives), sends the manager an Okta Verify push
/// with number matching, and the agent calls the manager at the work phone on file to read the number out. The
/// manager's approval, on their own device, verifies the caller for the actions the tenant accepts it for (a temporary
/// access code by default). Refused when the IdP names no manager, names the caller themself, a manager who is not
/// active, under alarm, or without a push with number matching.
/// </summary>
public sealed class ManagerApprovalMethod(
    TenantDirectories directories,
    VerificationStore store,
    CallerReferences references,
    ICallerPseudonymizer pseudonyms,
    IAuditTrail audit,
    VerificationVerdicts verdicts,
    OktaPushMethod push) : IVerificationMethod
{
    /// <summary>The factor id the console's form names: the method challenges the manager's factor, never the caller's.</summary>
    public const string FactorId = "manager";

    public const string ResultAction = "verification.manager.result";

    /// <summary>The audit action naming the manager who was asked, so that the manager's own timeline shows it too.</summary>
    public const string AskedAction = "verification.manager.asked";

    private static readonly PushEnds ManagersPush = new(ResultAction, "manager_rejected", "manager_timed_out");

    public string Name => VerificationMethods.RecoveryManager;

    /// <summary>
    /// Nothing reaches the caller's device, so the caller's push limit is not charged; the push to the manager counts
    /// against the <em>manager's</em> push limit instead (<see cref="FindManagerAsync"/>), so no one can have a manager
    /// bombed with pushes through their reports.
    /// </summary>
    public bool IsPush => false;

    public string StartAction => "verification.manager.start";

    /// <summary>
    /// Whether the console offers manager approval in <paramref name="tenant"/>: turned on, an Okta org (the push with
    /// number matching is Okta Verify's; docs/recovery.md says what an Entra tenant lacks), and a relay that can send the
    /// caller the recovery notice afterwards (no notice, no recovery).
    /// </summary>
    public static bool IsOffered(TenantSettings tenant) =>
        tenant.Recovery.ManagerApproval && tenant.Idp.Kind == IdpKind.Okta && Recovery.RecoveryNotices.CanNotify(tenant);

    public Refusal? CheckRequest(TenantSettings tenant, string? answer) => IsOffered(tenant)
        ? null
        : new Refusal("recovery_not_enabled", "Manager approval is not set up for your organisation (it needs the recovery notices' mail relay too). Ask your portal administrator.");

    /// <summary>The caller's own factors do not matter here (they are the ones the caller cannot use): the form must name the manager.</summary>
    public Refusal? CheckFactor(TenantSettings tenant, IReadOnlyList<CallerFactor> factors, string factorId) => factorId == FactorId
        ? null
        : new Refusal(VerificationMethodChecks.NotChallengeable, "This caller cannot be verified by their manager's approval.");

    public async Task<Outcome<VerificationStep>> StartAsync(VerificationAttempt attempt, CancellationToken ct)
    {
        var (request, caller) = (attempt.Request, attempt.Caller);
        var tenant = request.Tenant;
        var started = await audit.BeginAsync(attempt.Entry, ct);
        var directory = directories.For(tenant);
        var (manager, refused) = await FindManagerAsync(directory, tenant, caller, ct);
        if (manager is null)
        {
            return await GiveBackAsync(attempt, started, refused!, ct);
        }

        var (profile, factorId) = manager;
        var sent = await directory.StartPushAsync(profile.Id, factorId, request.Origin.Challenge, ct);
        if (!sent.IsSuccess)
        {
            return await GiveBackAsync(attempt, started, verdicts.IdpRefusal("manager_push", tenant, sent.Error), ct);
        }

        var lifetime = attempt.Now + OktaPushMethod.Lifetime;
        var pending = attempt.Pending(
            Name,
            sent.Value.ExpiresAt < lifetime ? sent.Value.ExpiresAt : lifetime,
            sent.Value.CorrectAnswer,
            references.AtRest(tenant.Id, sent.Value.PollReference)) with
        {
            ApproverRefProtected = references.AtRest(tenant.Id, profile.Id),
        };
        await store.CreatePendingAsync(pending, ct);
        attempt.Settle();
        await audit.CompleteAsync(started, AuditOutcome.Succeeded, null, ct);
        await audit.RecordAsync(VerificationVerdicts.CallerEntry(request, AskedAction, AuditOutcome.Succeeded, profile.Id, profile.Login, "approver") with { Method = Name }, ct);
        return VerificationStep.Challenge(pending);
    }

    /// <summary>Asks the IdP how the push to the manager's device went; its end verifies, or counts against, the caller.</summary>
    public async Task<Outcome<PendingVerification>> PollAsync(Agents.AgentRequest request, PendingVerification pending, string callerId, CancellationToken ct) =>
        references.FromRest(request.Tenant.Id, pending.ApproverRefProtected ?? "") is { } managerId
            ? await push.PollPushAsync(request, pending, callerId, managerId, ManagersPush, ct)
            : new Outcome<PendingVerification>(pending, new Refusal("unreadable", "This verification can no longer be read. Start a new one."));

    /// <summary>The manager a waiting approval was sent to, read live from the IdP for the agent's page (never stored); null when unknown.</summary>
    public async Task<CallerProfile?> ManagerOfAsync(TenantSettings tenant, PendingVerification pending, CancellationToken ct)
    {
        if (pending.Method != Name || references.FromRest(tenant.Id, pending.ApproverRefProtected ?? "") is not { } managerId)
        {
            return null;
        }

        try
        {
            var profile = await directories.For(tenant).GetCallerAsync(managerId, ct);
            return profile.IsSuccess ? profile.Value : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // The page still shows the number; the agent reaches the manager through the directory instead.
            return null;
        }
    }

    /// <summary>
    /// The manager the IdP names for the caller and the push factor to ask them on, or why there is none that may be
    /// asked: the caller's account closed, no manager, the caller themself, not active, no push with number matching,
    /// under alarm or at their push limit.
    /// </summary>
    private async Task<Outcome<ApprovingManager>> FindManagerAsync(ICallerDirectory directory, TenantSettings tenant, CallerBinding caller, CancellationToken ct)
    {
        var callerNow = await directory.GetCallerAsync(caller.Id, ct);
        if (!callerNow.IsSuccess)
        {
            return verdicts.IdpRefusal("caller", tenant, callerNow.Error);
        }

        if (RecoveryChecks.Closed(callerNow.Value.Status) is { } closed)
        {
            return closed;
        }

        var found = await directory.GetManagerAsync(caller.Id, ct);
        if (!found.IsSuccess)
        {
            return found.Error.Kind == IdpErrorKind.NotFound
                ? new Refusal("manager_absent", "The identity provider names no manager for this caller, so manager approval cannot be used. Follow your organisation's procedure for a caller who cannot use a second factor.")
                : verdicts.IdpRefusal("manager", tenant, found.Error);
        }

        var manager = found.Value;
        if (manager.Id == caller.Id || pseudonyms.HashCallerId(tenant.Id, manager.Id) == caller.IdHash)
        {
            return new Refusal("manager_is_caller", "The identity provider names the caller as their own manager: manager approval cannot be used. Tell your security team, as the profile may have been changed.");
        }

        if (manager.Status != CallerStatus.Active)
        {
            return new Refusal("manager_inactive", $"The caller's manager cannot approve: their account is {StatusLabels.Name(manager.Status)}. Follow your organisation's procedure for a caller who cannot use a second factor.");
        }

        var factors = await directory.ListFactorsAsync(manager.Id, ct);
        if (!factors.IsSuccess)
        {
            return verdicts.IdpRefusal("manager_factors", tenant, factors.Error);
        }

        if (factors.Value.FirstOrDefault(f => f.Method == VerificationMethods.OktaPush) is not { } pushFactor)
        {
            return new Refusal("manager_no_factor", "The caller's manager has no Okta Verify push with number matching, so they cannot approve. Follow your organisation's procedure for a caller who cannot use a second factor.");
        }

        return await ManagerGateAsync(tenant, manager) is { } barred ? barred : new ApprovingManager(manager, pushFactor.Id);
    }

    /// <summary>
    /// The manager's own counters: a manager under alarm, cooling down or past the failure limit cannot approve; a push
    /// to them takes a place in their push limit (it is their device), with no attempt charged to them: a report's
    /// recovery is not the manager's to fail. Null when the manager may be asked.
    /// </summary>
    private async Task<Refusal?> ManagerGateAsync(TenantSettings tenant, CallerProfile manager) =>
        await store.TryTakePushAsync(tenant.Id, pseudonyms.HashCallerId(tenant.Id, manager.Id), tenant.Verification, CancellationToken.None) switch
        {
            CallerGate.Open => null,
            CallerGate.PushLimit => new Refusal("manager_push_limit", "Too many pushes were sent to the caller's manager recently. Wait before asking them again."),
            _ => new Refusal("manager_under_alarm", "The caller's manager is under a security alarm or locked out of verification for now, so their approval cannot be used. Escalate to your security team."),
        };

    /// <summary>No push was sent: the attempt is given back (it was not the caller's failure) and the start is audited with why.</summary>
    private async Task<Outcome<VerificationStep>> GiveBackAsync(VerificationAttempt attempt, PendingAudit started, Refusal refusal, CancellationToken ct)
    {
        var tenant = attempt.Request.Tenant;
        await store.RefundAsync(tenant.Id, attempt.Caller.IdHash, attempt.ReservationId, succeeded: false, CancellationToken.None);
        attempt.Settle();
        await audit.CompleteAsync(started, refusal.Kind == RefusalKind.IdpFailed ? AuditOutcome.Failed : AuditOutcome.Denied, refusal.Code, ct);
        return refusal;
    }

    private sealed record ApprovingManager(CallerProfile Profile, string FactorId);
}
