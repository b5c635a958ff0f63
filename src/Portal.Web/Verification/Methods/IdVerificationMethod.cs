using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification.Methods;

/// <summary>
/// <c>recovery.idv</c>: a recovery method for a caller who cannot use their own factors (docs/recovery.md). The caller
/// goes through the identity verification their organisation set up at Okta (an ID document and a selfie, checked by
/// the vendor an Okta account management policy names), and the portal reads the result Okta records in its System
/// Log for this caller since the agent started. Okta gives an app no token claim for it, so the log is the evidence; the
/// portal never sees a document or a face. It proves that someone holding an ID in the caller's name, whose face
/// matches it, went through the verification; not that they hold any factor.
/// </summary>
public sealed class IdVerificationMethod(
    TenantDirectories directories,
    VerificationStore store,
    ICallerPseudonymizer pseudonyms,
    IAuditTrail audit,
    VerificationVerdicts verdicts) : IVerificationMethod
{
    /// <summary>The factor id the console's form names: the method uses none of the caller's factors.</summary>
    public const string FactorId = "idv";

    public const string ResultAction = "verification.idv.result";

    /// <summary>How long the caller has to finish the verification (a photo ID and a selfie take a few minutes).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(20);

    /// <summary>How often the agent's page asks (each ask reads Okta's System Log, whose rate limit is the org's).</summary>
    public const int PollSeconds = 10;

    /// <summary>
    /// At most one read of Okta's System Log per verification in this time, however many tabs poll it or press
    /// "Check now" (the log's rate limit is the org's, shared with reconciliation).
    /// </summary>
    public static readonly TimeSpan ReadInterval = TimeSpan.FromSeconds(5);

    /// <summary>Okta recorded a result that is not its documented pass.</summary>
    public const string NotVerified = "idv_not_verified";

    /// <summary>
    /// Okta recorded a result that is neither its pass nor a denial (a vendor error, another outcome): not verified,
    /// and not the caller's failure, since no one was seen failing the check.
    /// </summary>
    public const string NoDecision = "idv_no_decision";

    /// <summary>Okta's pass already verified another verification of the caller: two calls in the caller's name at once.</summary>
    public const string ResultUsed = "idv_result_used";

    /// <summary>Another ID verification of the caller is still waiting: one check at Okta would satisfy both.</summary>
    public const string AlreadyWaiting = "idv_already_waiting";

    private const string TimedOut = "idv_timed_out";

    public string Name => VerificationMethods.RecoveryIdVerification;

    /// <summary>Nothing reaches any device: no push limit is charged.</summary>
    public bool IsPush => false;

    public string StartAction => "verification.idv.start";

    /// <summary>Whether the console offers it in <paramref name="tenant"/>: turned on, an Okta org, and a relay for the recovery notice.</summary>
    public static bool IsOffered(TenantSettings tenant) =>
        tenant.Recovery.IdVerification && tenant.Idp.Kind == IdpKind.Okta && Recovery.RecoveryNotices.CanNotify(tenant);

    public Refusal? CheckRequest(TenantSettings tenant, string? answer) => IsOffered(tenant)
        ? null
        : new Refusal("recovery_not_enabled", "ID verification through your identity provider is not set up for your organisation. Ask your portal administrator.");

    public Refusal? CheckFactor(TenantSettings tenant, IReadOnlyList<CallerFactor> factors, string factorId) => factorId == FactorId
        ? null
        : new Refusal(VerificationMethodChecks.NotChallengeable, "This caller cannot be verified by ID verification.");

    public async Task<Outcome<VerificationStep>> StartAsync(VerificationAttempt attempt, CancellationToken ct)
    {
        var (request, caller) = (attempt.Request, attempt.Caller);
        var tenant = request.Tenant;
        var started = await audit.BeginAsync(attempt.Entry, ct);
        var callerNow = await directories.For(tenant).GetCallerAsync(caller.Id, ct);
        var refused = !callerNow.IsSuccess
            ? verdicts.IdpRefusal("caller", tenant, callerNow.Error)
            : RecoveryChecks.Closed(callerNow.Value.Status);

        // Only a result recorded from now on counts: one the caller (or anyone) obtained before this call does not.
        var pending = attempt.Pending(Name, attempt.Now + Lifetime);

        // One waiting ID verification per caller: Okta's result names the account, not the call, so one check by the
        // real holder would satisfy two waiting verifications of them (two agents, two calls in their name).
        if (refused is null && !await store.TryHoldIdentityVerificationAsync(tenant.Id, caller.IdHash, pending.Id, pending.ExpiresAt, ct))
        {
            refused = new Refusal(AlreadyWaiting,
                "An ID verification of this caller is already waiting (started by you or another agent). One check at Okta would answer both, so a second is not started: finish or wait out the first (twenty minutes at most), or verify the caller another way.");
        }

        if (refused is not null)
        {
            // Nothing was asked of anyone: the attempt is given back.
            await store.RefundAsync(tenant.Id, caller.IdHash, attempt.ReservationId, succeeded: false, CancellationToken.None);
            attempt.Settle();
            await audit.CompleteAsync(started, refused.Kind == RefusalKind.IdpFailed ? AuditOutcome.Failed : AuditOutcome.Denied, refused.Code, ct);
            return refused;
        }

        await store.CreatePendingAsync(pending, ct);
        attempt.Settle();
        await audit.CompleteAsync(started, AuditOutcome.Succeeded, null, ct);
        return VerificationStep.Challenge(pending);
    }

    /// <summary>
    /// Reads Okta's result for this caller since the start: none yet (still waiting), Okta's pass (verified, if the
    /// account is still open), or anything else (not verified, counted against the caller). An IdP that does not answer
    /// leaves it waiting and says so.
    /// </summary>
    public async Task<Outcome<PendingVerification>> PollAsync(AgentRequest request, PendingVerification pending, string callerId, CancellationToken ct)
    {
        var tenant = request.Tenant;
        if (store.Now >= pending.ExpiresAt)
        {
            return await verdicts.ExpireAsync(request, pending, callerId, ResultAction, TimedOut, ct);
        }

        if (!IsOffered(tenant))
        {
            return await verdicts.FailAsync(request, pending, callerId, ChallengeState.Rejected, ResultAction, "recovery_not_enabled", ct, alarm: false, countAgainstCaller: false);
        }

        if (!await store.TryClaimPollAsync(tenant.Id, pending.Id, ReadInterval, ct))
        {
            // Read moments ago (another tab, "Check now"): the answer has not changed since.
            return pending;
        }

        var directory = directories.For(tenant);
        var result = await directory.FindIdentityVerificationAsync(callerId, pending.CreatedAt, ct);
        if (!result.IsSuccess)
        {
            return new Outcome<PendingVerification>(pending, verdicts.IdpRefusal("identity verification", tenant, result.Error));
        }

        switch (result.Value.State)
        {
            case IdentityVerificationState.NotYet:
                return pending;
            case IdentityVerificationState.NotVerified:
                // Okta's DENY: the person at the check failed it. Counted against the caller.
                return await verdicts.FailAsync(request, pending, callerId, ChallengeState.Rejected, ResultAction, NotVerified, ct, alarm: false);
            case IdentityVerificationState.NoDecision:
                return await verdicts.FailAsync(request, pending, callerId, ChallengeState.Rejected, ResultAction, NoDecision, ct, alarm: false, countAgainstCaller: false);
        }

        // Verified: an account closed meanwhile (a leaver's, one the security team suspended) is still not recovered.
        var callerNow = await directory.GetCallerAsync(callerId, ct);
        if (!callerNow.IsSuccess)
        {
            return new Outcome<PendingVerification>(pending, verdicts.IdpRefusal("caller", tenant, callerNow.Error));
        }

        if (RecoveryChecks.Closed(callerNow.Value.Status) is { } closed)
        {
            return await verdicts.FailAsync(request, pending, callerId, ChallengeState.Rejected, ResultAction, closed.Code, ct, alarm: false, countAgainstCaller: false);
        }

        // One pass at Okta verifies one verification. The same pass seen by a second waiting verification of the caller
        // (another agent, another call) means two people are calling in the caller's name at once: an alarm.
        var used = result.Value.EventId is { Length: > 0 } eventId
            && await store.TryUseIdentityVerificationAsync(tenant.Id, pseudonyms.HashValue(tenant.Id, "idv-event", eventId), ct);
        return used
            ? await verdicts.ApproveAsync(request, pending, callerId, ResultAction, ct)
            : await verdicts.FailAsync(request, pending, callerId, ChallengeState.Rejected, ResultAction, ResultUsed, ct, alarm: true);
    }
}
