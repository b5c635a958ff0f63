using Portal.Audit;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification.Recovery;

/// <summary>What a "This wasn't me" did, as its page says it.</summary>
public enum DisputeResult
{
    /// <summary>Factors removed, signed out everywhere, the caller under alarm, the security team alerted.</summary>
    Done,

    /// <summary>Under alarm and alerted, but the IdP did not remove the factors or end the sessions: the page tells the caller to call security.</summary>
    NotAllUndone,

    AlreadyUsed,

    /// <summary>Unknown, expired, or not readable in its tenant: a plain 404 and nothing else.</summary>
    Gone,
}

/// <summary>
/// The "This wasn't me" link of a recovery notice (docs/recovery.md, "Recovery notices", V10), opened by whoever holds
/// the notice, without signing in. Using it, once: every session of the caller ended at the IdP, the caller under
/// alarm (as after a rejected push, V6), the tenant's alert webhook (<c>recovery.disputed</c>), <c>recovery.not_me</c>
/// audited. It acts in the link's own tenant only, on the caller its record names.
/// </summary>
public sealed class RecoveryDisputes(
    RecoveryNoticeStore links,
    ITenantCatalog tenants,
    TenantDirectories directories,
    CallerReferences references,
    VerificationStore verifications,
    IAlertNotifier alerts,
    IAuditTrail audit,
    ILogger<RecoveryDisputes> logger)
{
    public const string AuditAction = "recovery.not_me";

    public const string AlertType = "recovery.disputed";

    /// <summary>The link's state for its page, and the organisation's name while it can be used.</summary>
    public async Task<(DisputeResult State, string? Organisation)> OpenAsync(string token, CancellationToken ct)
    {
        var link = await links.GetAsync(token, ct);
        if (link is { UsedAt: not null })
        {
            return (DisputeResult.AlreadyUsed, null);
        }

        var tenant = link is null || !links.IsUsable(link) ? null : tenants.Find(link.TenantId);
        return tenant is null || references.FromRest(tenant.Id, link!.CallerRefProtected) is null ? (DisputeResult.Gone, null) : (DisputeResult.Done, tenant.DisplayName);
    }

    public async Task<DisputeResult> DisputeAsync(RequestContext origin, string token, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(origin);
        var found = await links.GetAsync(token, ct);
        if (found is { UsedAt: not null })
        {
            return DisputeResult.AlreadyUsed;
        }

        // The caller's id opens only in the tenant it was sealed for: a record moved to another tenant acts nowhere.
        var tenant = found is null || !links.IsUsable(found) ? null : tenants.Find(found.TenantId);
        var callerId = tenant is null ? null : references.FromRest(tenant.Id, found!.CallerRefProtected);
        if (tenant is null || callerId is null)
        {
            return DisputeResult.Gone;
        }

        var (taken, link) = await links.TakeAsync(token, ct);
        if (taken != NoticeLinkUse.Taken || link is null || link.TenantId != tenant.Id)
        {
            return taken == NoticeLinkUse.AlreadyUsed ? DisputeResult.AlreadyUsed : DisputeResult.Gone;
        }

        // From here on the link is spent: each step is done whatever the request's cancellation.
        await verifications.RaiseAlarmAsync(tenant.Id, link.CallerIdHash, tenant.Verification, CancellationToken.None);
        // Undo what the recovery may have let in (docs/recovery.md): the factors first (a factor an impostor enrolled
        // with the temporary access code would let them sign in again), then every session.
        var directory = directories.For(tenant);
        var factorFailure = await AtTheIdpAsync(async () =>
        {
            var reset = await directory.ResetFactorsAsync(callerId, CancellationToken.None);
            return !reset.IsSuccess ? reset.Error.Code : reset.Value.IsPartial ? reset.Value.StoppedBy ?? "partial" : null;
        });
        var sessionFailure = await AtTheIdpAsync(async () =>
        {
            var revoked = await directory.RevokeSessionsAsync(callerId, CancellationToken.None);
            return revoked.IsSuccess ? null : revoked.Error.Code;
        });
        var revokeFailure = (factorFailure, sessionFailure) switch
        {
            (null, null) => null,
            (null, _) => $"sessions_not_revoked: {sessionFailure}",
            (_, null) => $"factors_not_reset: {factorFailure}",
            _ => $"factors_not_reset: {factorFailure}; sessions_not_revoked: {sessionFailure}",
        };

        var now = links.Now;
        PortalLog.Alarm(logger, tenant.Id, AlertType);
        RecoveryLog.Disputed(logger, tenant.Id, link.Action, revokeFailure is null);
        alerts.Raise(new AlertEvent
        {
            Id = PortalIds.New(),
            TenantId = tenant.Id,
            Type = AlertType,
            Reason = link.Action,
            At = now,
            CallerIdHash = link.CallerIdHash,
            AgentSubject = link.AgentSubject,
            AgentMaskedLogin = link.AgentMaskedLogin,
            RequestId = origin.RequestId,
        });

        try
        {
            await audit.RecordAsync(
                new AuditEntry
                {
                    TenantId = tenant.Id,
                    Action = AuditAction,
                    // An alarm like a rejected push (V6), so an auditor's alarm filter finds it; the reason says what the IdP did not do.
                    Outcome = AuditOutcome.Alarm,
                    Reason = revokeFailure is null ? link.Action : $"{link.Action}; {revokeFailure}",
                    AgentSubjectId = link.AgentSubject,
                    AgentLogin = link.AgentMaskedLogin,
                    CallerId = callerId,
                    CallerLogin = link.CallerMaskedLogin,
                    Method = link.Method,
                    RequestId = origin.RequestId,
                    TraceId = origin.TraceId,
                    ClientAddress = origin.ClientAddress,
                    UserAgent = origin.UserAgent,
                },
                CancellationToken.None);
        }
        catch (AuditUnavailableException)
        {
            // The sessions are ended and the alarm raised; the trail logged that this record is missing.
        }

        return revokeFailure is null ? DisputeResult.Done : DisputeResult.NotAllUndone;
    }

    /// <summary>One step at the IdP: null when done, else the IdP's code (<c>unreachable</c> when it did not answer).</summary>
    private static async Task<string?> AtTheIdpAsync(Func<Task<string?>> step)
    {
        try
        {
            return await step();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return "unreachable";
        }
    }
}
