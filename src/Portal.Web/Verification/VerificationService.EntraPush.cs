using Portal.Audit;
using Portal.Idp;
using Portal.Idp.Entra;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification;

/// <summary>
/// <c>entra.push</c>: a Microsoft Authenticator push through the Azure MFA connector. Unsupported by Microsoft and
/// without number matching, so it is offered only when the tenant turns it on, and its verification is accepted only
/// by actions whose tenant policy names it (no default action accepts it).
/// </summary>
public sealed partial class VerificationService
{
    public const string EntraPushFactorId = "entra-push";
    public const string EntraPushLabel = "Microsoft Authenticator push (unsupported by Microsoft, no number matching)";
    private const string EntraPushStartAction = "verification.entrapush.start";
    private const string EntraPushResultAction = "verification.entrapush.result";

    /// <summary>The pending record outlives the synchronous call only when the agent's request was abandoned.</summary>
    private static readonly TimeSpan EntraPushLifetime = TimeSpan.FromMinutes(2);

    public static bool IsEntraPushEnabled(TenantSettings tenant) =>
        tenant.Idp.Kind == IdpKind.Entra && tenant.Idp.Entra.PushConnector.Enabled;

    /// <summary>Adds the <c>entra.push</c> factor when the tenant turned the connector on and the caller has Microsoft Authenticator.</summary>
    internal static IReadOnlyList<CallerFactor> WithEntraPush(TenantSettings tenant, IReadOnlyList<CallerFactor> factors) =>
        IsEntraPushEnabled(tenant) && factors.Any(f => f.Kind == FactorKind.Push && f.IsActive && f.Method is null)
            ? [.. factors, new CallerFactor(EntraPushFactorId, FactorKind.Push, EntraPushLabel, true, VerificationMethods.EntraPush, null)]
            : factors;

    /// <summary>
    /// Sends the push and waits inside this request for the caller's answer. Approved opens a verification session
    /// (its id is returned); denied is an alarm exactly like a rejected Okta push (V6); no answer is a failure.
    /// </summary>
    public async Task<Outcome<PendingVerification>> StartEntraPushAsync(AgentRequest request, string? callerRef, string factorId, CancellationToken ct)
    {
        var (agent, tenant, _) = request;
        if (references.FromForm(agent, callerRef) is not var (callerId, maskedLogin))
        {
            return Refusal.StaleForm;
        }

        var entry = CallerEntry(request, EntraPushStartAction, AuditOutcome.Pending, callerId, maskedLogin, null) with { Method = VerificationMethods.EntraPush };
        if (!IsEntraPushEnabled(tenant))
        {
            // A crafted form cannot reach the unsupported connector of a tenant that did not turn it on.
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = "entra_push_disabled" }, ct);
            return new Refusal("factor_not_challengeable", "That factor cannot be used to verify this caller.");
        }

        var directory = directories.For(tenant);
        var factors = await directory.ListFactorsAsync(callerId, ct);
        if (!factors.IsSuccess)
        {
            return IdpRefusal("factors", tenant, factors.Error);
        }

        if (factorId != EntraPushFactorId || !WithEntraPush(tenant, factors.Value).Any(f => f.Method == VerificationMethods.EntraPush))
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = "factor_not_challengeable" }, ct);
            return new Refusal("factor_not_challengeable", "That factor cannot be used to verify this caller.");
        }

        var profile = await directory.GetCallerAsync(callerId, ct);
        if (!profile.IsSuccess)
        {
            return IdpRefusal("lookup", tenant, profile.Error);
        }

        var idHash = pseudonyms.HashCallerId(tenant.Id, callerId);
        var (gate, reservation) = await store.TryReserveAttemptAsync(tenant.Id, idHash, isPush: true, tenant.Verification, ct);
        if (gate != CallerGate.Open || reservation is null)
        {
            await audit.RecordAsync(entry with { Outcome = AuditOutcome.Denied, Reason = GateCode(gate) }, ct);
            return GateRefusal(gate);
        }

        var now = store.Now;
        var record = new PendingVerification
        {
            Id = PortalIds.New(),
            TenantId = tenant.Id,
            AgentSessionId = agent.SessionId,
            AgentSubject = agent.Subject,
            AgentMaskedLogin = agent.MaskedLogin,
            CallerIdHash = idHash,
            CallerMaskedLogin = maskedLogin,
            CallerRefProtected = references.AtRest(tenant.Id, callerId),
            Method = VerificationMethods.EntraPush,
            CorrectAnswer = 0,
            PollRefProtected = references.AtRest(tenant.Id, EntraPushFactorId),
            State = ChallengeState.Waiting,
            CreatedAt = now,
            ExpiresAt = now + EntraPushLifetime,
            AttemptReservationId = reservation,
        };
        await store.CreatePendingAsync(record, ct);

        var started = await audit.BeginAsync(entry, ct);
        var push = tenant.Idp.Entra.PushConnector;
        var connection = new EntraPushConnection(
            tenant.Id,
            tenant.Idp.Entra.DirectoryTenantId,
            secrets.Resolve(tenant, TenantSecret.EntraPushConnector),
            string.IsNullOrEmpty(push.TokenEndpoint) ? null : new Uri(push.TokenEndpoint),
            string.IsNullOrEmpty(push.ConnectorEndpoint) ? null : new Uri(push.ConnectorEndpoint));
        var answer = await entraPush.PushAsync(connection, profile.Value.Login, tenant.DisplayName + " helpdesk", ct);

        // The caller has answered: what follows is recorded even if the agent's browser gave up waiting.
        var done = CancellationToken.None;
        if (!answer.IsSuccess)
        {
            await store.RefundAsync(tenant.Id, idHash, reservation, succeeded: false, done);
            await audit.CompleteAsync(started, AuditOutcome.Failed, answer.Error.Code, done);
            await store.CompletePendingAsync(tenant.Id, record.Id, ChallengeState.TimedOut, null, done, answer.Error.Code);
            return IdpRefusal("entra_push", tenant, answer.Error);
        }

        await audit.CompleteAsync(started, AuditOutcome.Succeeded, null, done);
        var finished = answer.Value switch
        {
            PushState.Approved => await ApproveAsync(request, record, callerId, done, EntraPushResultAction),
            PushState.Rejected => await FailAsync(request, record, callerId, ChallengeState.Rejected, done, EntraPushResultAction, "push_rejected", alarmOverride: true),
            _ => await FailAsync(request, record, callerId, ChallengeState.TimedOut, done, EntraPushResultAction, "push_timed_out", alarmOverride: false),
        };
        return finished;
    }

    private async Task<PendingVerification> ExpireEntraPushAsync(AgentRequest request, PendingVerification pending, CancellationToken ct)
    {
        var (_, tenant, _) = request;
        var callerId = references.FromRest(tenant.Id, pending.CallerRefProtected);
        return store.Now < pending.ExpiresAt || callerId is null
            ? pending
            : await FailAsync(request, pending, callerId, ChallengeState.TimedOut, ct, EntraPushResultAction, "push_timed_out", alarmOverride: false);
    }
}
