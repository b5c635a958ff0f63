using Portal.Audit;
using Portal.Idp;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification.Methods;

/// <summary>
/// <c>recovery.manager</c>: a recovery method for a caller who cannot use their own factors (docs/recovery.md). The
/// portal finds the caller's manager at the IdP (never a name the caller gives) and asks them, and the agent calls the
/// manager at the work phone on file. In an Okta organisation the manager gets an Okta Verify push with number matching
/// and the agent reads the number out; in an Entra tenant the manager gets a step-up sign-in link by e-mail at their
/// address on file (<see cref="StepUp.ManagerSignIn"/>) and the agent reads out its short code, and only the manager's
/// own strong sign-in decides it. The manager's approval verifies the caller for the actions the tenant accepts it for
/// (a temporary access code by default). Refused when the IdP names no manager, names the caller themself, a manager
/// who is not active, under alarm, or without a strong factor (a push with number matching in Okta).
/// </summary>
public sealed class ManagerApprovalMethod(
    TenantDirectories directories,
    VerificationStore store,
    CallerReferences references,
    ICallerPseudonymizer pseudonyms,
    IAuditTrail audit,
    VerificationVerdicts verdicts,
    OktaPushMethod push,
    StepUp.ManagerSignIn signIn) : IVerificationMethod
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
    /// Whether the console offers manager approval in <paramref name="tenant"/>: turned on, a relay that can send the
    /// caller the recovery notice afterwards (no notice, no recovery), and a way to ask the manager: an Okta org's push
    /// with number matching, or an Entra tenant's step-up sign-in (configured; its link goes to the manager through the
    /// same relay).
    /// </summary>
    public static bool IsOffered(TenantSettings tenant) =>
        tenant.Recovery.ManagerApproval && Recovery.RecoveryNotices.CanNotify(tenant)
        && (tenant.Idp.Kind == IdpKind.Okta || (tenant.Idp.Kind == IdpKind.Entra && tenant.StepUp.IsConfigured));

    /// <summary>Whether the manager is asked by a step-up sign-in link (an Entra tenant) rather than an Okta Verify push.</summary>
    public static bool BySignIn(TenantSettings tenant) => tenant.Idp.Kind == IdpKind.Entra;

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
        if (BySignIn(tenant))
        {
            return await StartSignInAsync(attempt, started, profile, ct);
        }

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

    /// <summary>
    /// An Entra tenant: the manager is sent a one-time step-up link at their address on file (never shown to the agent,
    /// so never read to the caller), the agent reads the manager its short code on the call to the number on file, and
    /// the manager's own strong sign-in decides it (<see cref="StepUp.StepUpService"/>). Nothing sent, nothing stored:
    /// the attempt is given back when the manager has no address or the relay does not take the message.
    /// </summary>
    private async Task<Outcome<VerificationStep>> StartSignInAsync(VerificationAttempt attempt, PendingAudit started, CallerProfile manager, CancellationToken ct)
    {
        var tenant = attempt.Request.Tenant;
        var pending = attempt.Pending(Name, attempt.Now + StepUpMethod.Lifetime) with
        {
            ApproverRefProtected = references.AtRest(tenant.Id, manager.Id),
        };
        var (code, refused) = await signIn.SendAsync(attempt.Request, pending, manager, ct);
        if (code is null)
        {
            return await GiveBackAsync(attempt, started, refused!, ct);
        }

        await store.CreatePendingAsync(pending, ct);
        attempt.Settle();
        await audit.CompleteAsync(started, AuditOutcome.Succeeded, null, ct);
        await audit.RecordAsync(VerificationVerdicts.CallerEntry(attempt.Request, AskedAction, AuditOutcome.Succeeded, manager.Id, manager.Login, "approver") with { Method = Name }, ct);
        return VerificationStep.Challenge(pending) with { ManagerCode = code };
    }

    /// <summary>
    /// Asks the IdP how the push to the manager's device went (Okta); its end verifies, or counts against, the caller.
    /// A sign-in link (Entra) is decided by the manager's sign-in: polling only notices that it ran out.
    /// </summary>
    public async Task<Outcome<PendingVerification>> PollAsync(Agents.AgentRequest request, PendingVerification pending, string callerId, CancellationToken ct) =>
        BySignIn(request.Tenant)
            ? await verdicts.ExpireAsync(request, pending, callerId, ResultAction, "manager_timed_out", ct)
            : references.FromRest(request.Tenant.Id, pending.ApproverRefProtected ?? "") is { } managerId
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

        // Okta: a push with number matching to the manager's device. Entra: a strong method the manager's step-up sign-in
        // can use (the adapter lists the step-up factor only for a user with one); an SMS or a voice call is not one.
        var strong = BySignIn(tenant) ? VerificationMethods.OidcStepUp : VerificationMethods.OktaPush;
        if (factors.Value.FirstOrDefault(f => f.Method == strong) is not { } factor)
        {
            return new Refusal("manager_no_factor", BySignIn(tenant)
                ? "The caller's manager has no strong sign-in method (such as Microsoft Authenticator or a security key), so they cannot approve. Follow your organisation's procedure for a caller who cannot use a second factor."
                : "The caller's manager has no Okta Verify push with number matching, so they cannot approve. Follow your organisation's procedure for a caller who cannot use a second factor.");
        }

        return await ManagerGateAsync(tenant, manager) is { } barred ? barred : new ApprovingManager(manager, factor.Id);
    }

    /// <summary>
    /// The manager's own counters: a manager under alarm, cooling down or past the failure limit cannot approve; a push
    /// (or a sign-in link by e-mail) to them takes a place in their push limit (it is their device, their mailbox), with
    /// no attempt charged to them: a report's recovery is not the manager's to fail. Null when the manager may be asked.
    /// </summary>
    private async Task<Refusal?> ManagerGateAsync(TenantSettings tenant, CallerProfile manager) =>
        await store.TryTakePushAsync(tenant.Id, pseudonyms.HashCallerId(tenant.Id, manager.Id), tenant.Verification, CancellationToken.None) switch
        {
            CallerGate.Open => null,
            CallerGate.PushLimit => new Refusal("manager_push_limit", BySignIn(tenant)
                ? "Too many approval requests were sent to the caller's manager recently. Wait before asking them again."
                : "Too many pushes were sent to the caller's manager recently. Wait before asking them again."),
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
