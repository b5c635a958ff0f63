using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification.Methods;

/// <summary>
/// <c>entra.push</c>: a Microsoft Authenticator push through the Azure MFA connector (docs/entra.md). Unsupported by
/// Microsoft and without number matching, so it is offered only when the tenant turns it on, and its verification is
/// accepted only by actions whose tenant policy names it (no default action accepts it). The request that sends the
/// push waits for the caller's answer and decides it.
/// </summary>
public sealed class EntraPushMethod(TenantDirectories directories, VerificationStore store, IAuditTrail audit, VerificationVerdicts verdicts) : IVerificationMethod
{
    public const string FactorId = "entra-push";
    public const string Label = "Microsoft Authenticator push (unsupported by Microsoft, no number matching)";
    private const string ResultAction = "verification.entrapush.result";

    /// <summary>The pending record outlives the synchronous call only when the agent's request was abandoned.</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);

    public string Name => VerificationMethods.EntraPush;

    public bool IsPush => true;

    public string StartAction => "verification.entrapush.start";

    public static bool IsEnabled(TenantSettings tenant) =>
        tenant.Idp.Kind == IdpKind.Entra && tenant.Idp.Entra.PushConnector.Enabled;

    /// <summary>Adds the <c>entra.push</c> factor when the tenant turned the connector on and the caller has Microsoft Authenticator.</summary>
    public static IReadOnlyList<CallerFactor> WithEntraPush(TenantSettings tenant, IReadOnlyList<CallerFactor> factors) =>
        IsEnabled(tenant) && factors.Any(f => f.Kind == FactorKind.Push && f.IsActive && f.Method is null)
            ? [.. factors, new CallerFactor(FactorId, FactorKind.Push, Label, true, VerificationMethods.EntraPush, null)]
            : factors;

    /// <summary>A crafted form cannot reach the unsupported connector of a tenant that did not turn it on.</summary>
    public Refusal? CheckRequest(TenantSettings tenant, string? answer) =>
        IsEnabled(tenant) ? null : new Refusal("entra_push_disabled", "That factor cannot be used to verify this caller.");

    public Refusal? CheckFactor(TenantSettings tenant, IReadOnlyList<CallerFactor> factors, string factorId) =>
        VerificationMethodChecks.Challengeable(WithEntraPush(tenant, factors), factorId, Name);

    /// <summary>
    /// Sends the push and waits inside this request for the caller's answer. Approved opens a verification session;
    /// denied is an alarm exactly like a rejected Okta push (V6); no answer is a failure.
    /// </summary>
    public async Task<Outcome<VerificationStep>> StartAsync(VerificationAttempt attempt, CancellationToken ct)
    {
        var (request, caller) = (attempt.Request, attempt.Caller);
        var tenant = request.Tenant;
        var directory = directories.For(tenant);
        var profile = await directory.GetCallerAsync(caller.Id, ct);
        if (!profile.IsSuccess)
        {
            await store.RefundAsync(tenant.Id, caller.IdHash, attempt.ReservationId, succeeded: false, CancellationToken.None);
            attempt.Settle();
            await audit.RecordAsync(attempt.Entry with { Outcome = AuditOutcome.Failed, Reason = profile.Error.Code }, ct);
            return verdicts.IdpRefusal("lookup", tenant, profile.Error);
        }

        var pending = attempt.Pending(Name, attempt.Now + Lifetime);
        await store.CreatePendingAsync(pending, ct);
        attempt.Settle();
        var started = await audit.BeginAsync(attempt.Entry, ct);
        var answer = await directories.EntraPushAsync(tenant, profile.Value.Login, tenant.DisplayName + " helpdesk", ct);

        // The caller has answered: what follows is recorded even if the agent's browser gave up waiting.
        var done = CancellationToken.None;
        if (!answer.IsSuccess)
        {
            await store.RefundAsync(tenant.Id, caller.IdHash, attempt.ReservationId, succeeded: false, done);
            await audit.CompleteAsync(started, AuditOutcome.Failed, answer.Error.Code, done);
            await store.CompletePendingAsync(tenant.Id, pending.Id, ChallengeState.TimedOut, null, done, answer.Error.Code);
            return verdicts.IdpRefusal("entra_push", tenant, answer.Error);
        }

        await audit.CompleteAsync(started, AuditOutcome.Succeeded, null, done);
        var finished = answer.Value switch
        {
            PushState.Approved => await verdicts.ApproveAsync(request, pending, caller.Id, ResultAction, done),
            PushState.Rejected => await verdicts.FailAsync(request, pending, caller.Id, ChallengeState.Rejected, ResultAction, "push_rejected", done, alarm: true),
            _ => await verdicts.FailAsync(request, pending, caller.Id, ChallengeState.TimedOut, ResultAction, "push_timed_out", done, alarm: false),
        };
        return VerificationStep.Challenge(finished);
    }

    /// <summary>Decided inside the request that sent it; a push whose request was abandoned can only run out (V2).</summary>
    public Task<Outcome<PendingVerification>> PollAsync(AgentRequest request, PendingVerification pending, string callerId, CancellationToken ct) =>
        verdicts.ExpireAsync(request, pending, callerId, ResultAction, "push_timed_out", ct);
}
