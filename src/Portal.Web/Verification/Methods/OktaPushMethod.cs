using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification.Methods;

/// <summary>
/// <c>okta.push</c>: an Okta Verify push with number matching. The agent reads out the number; the caller picks it on
/// their own device. The IdP decides; the agent's page polls it through <see cref="PollAsync"/>.
/// </summary>
public sealed class OktaPushMethod(TenantDirectories directories, VerificationStore store, CallerReferences references, IAuditTrail audit, VerificationVerdicts verdicts) : IVerificationMethod
{
    private const string ResultAction = "verification.push.result";

    /// <summary>V2: whatever the IdP says, a push not answered within this time is void.</summary>
    internal static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    public string Name => VerificationMethods.OktaPush;

    public bool IsPush => true;

    public string StartAction => "verification.push.start";

    public Refusal? CheckRequest(TenantSettings tenant, string? answer) => null;

    public Refusal? CheckFactor(TenantSettings tenant, IReadOnlyList<CallerFactor> factors, string factorId) =>
        VerificationMethodChecks.Challengeable(factors, factorId, Name);

    public async Task<Outcome<VerificationStep>> StartAsync(VerificationAttempt attempt, CancellationToken ct)
    {
        var (request, caller) = (attempt.Request, attempt.Caller);
        var tenant = request.Tenant;
        var started = await audit.BeginAsync(attempt.Entry, ct);
        var push = await directories.For(tenant).StartPushAsync(caller.Id, attempt.FactorId, request.Origin.Challenge, ct);
        if (!push.IsSuccess)
        {
            await store.RefundAsync(tenant.Id, caller.IdHash, attempt.ReservationId, succeeded: false, CancellationToken.None);
            attempt.Settle();
            await audit.CompleteAsync(started, AuditOutcome.Failed, push.Error.Code, ct);
            return verdicts.IdpRefusal("push", tenant, push.Error);
        }

        var lifetime = attempt.Now + Lifetime;
        var pending = attempt.Pending(
            Name,
            push.Value.ExpiresAt < lifetime ? push.Value.ExpiresAt : lifetime,
            push.Value.CorrectAnswer,
            references.AtRest(tenant.Id, push.Value.PollReference));
        await store.CreatePendingAsync(pending, ct);
        attempt.Settle();
        await audit.CompleteAsync(started, AuditOutcome.Succeeded, null, ct);
        return VerificationStep.Challenge(pending);
    }

    /// <summary>Asks the IdP how the push went, at most once per poll interval across every tab and instance.</summary>
    public Task<Outcome<PendingVerification>> PollAsync(AgentRequest request, PendingVerification pending, string callerId, CancellationToken ct) =>
        PollPushAsync(request, pending, callerId, callerId, CallersPush, ct);

    /// <summary>How the caller's own push is audited when it ends.</summary>
    private static readonly PushEnds CallersPush = new(ResultAction, "push_rejected", "push_timed_out");

    /// <summary>
    /// Asks the IdP how a push to <paramref name="deviceOwnerId"/>'s device went (the caller's own, or their manager's
    /// for <see cref="ManagerApprovalMethod"/>), at most once per poll interval across every tab and instance; its end
    /// verifies, or counts against, the caller <paramref name="callerId"/>, audited as <paramref name="ends"/> says.
    /// </summary>
    internal async Task<Outcome<PendingVerification>> PollPushAsync(AgentRequest request, PendingVerification pending, string callerId, string deviceOwnerId, PushEnds ends, CancellationToken ct)
    {
        var tenant = request.Tenant;
        if (references.FromRest(tenant.Id, pending.PollRefProtected) is not { } pollRef)
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
            var polled = await directories.For(tenant).PollPushAsync(deviceOwnerId, pollRef, ct);
            if (!polled.IsSuccess)
            {
                return new Outcome<PendingVerification>(pending, verdicts.IdpRefusal("poll", tenant, polled.Error));
            }

            state = polled.Value;
        }

        return state switch
        {
            PushState.Waiting => pending,
            PushState.Approved => await verdicts.ApproveAsync(request, pending, callerId, ends.ResultAction, ct),
            PushState.Rejected => await verdicts.FailAsync(request, pending, callerId, ChallengeState.Rejected, ends.ResultAction, ends.Rejected, ct),
            _ => await verdicts.FailAsync(request, pending, callerId, ChallengeState.TimedOut, ends.ResultAction, ends.TimedOut, ct),
        };
    }
}

/// <summary>How a push's end is audited: its result action, and the reasons of a rejection and of a time-out.</summary>
internal sealed record PushEnds(string ResultAction, string Rejected, string TimedOut);

/// <summary>The check the factor-based methods share: the factor the form names is one the IdP lists now, of this method.</summary>
internal static class VerificationMethodChecks
{
    public const string NotChallengeable = "factor_not_challengeable";

    public static Refusal? Challengeable(IReadOnlyList<CallerFactor> factors, string factorId, string method)
    {
        // Only an ACTIVE factor of an accepted kind may be challenged (V1), whatever id a crafted form names.
        if (factors.Any(f => f.Id == factorId && f.Method == method))
        {
            return null;
        }

        // The IdP's own reason when it has one for this factor (e.g. its push would be answered on an untrusted host).
        var reason = factors.FirstOrDefault(f => f.Id == factorId)?.NotChallengeableReason;
        return new Refusal(NotChallengeable, reason is null
            ? "That factor cannot be used to verify this caller."
            : "That factor cannot be used to verify this caller: " + reason + ".");
    }
}
