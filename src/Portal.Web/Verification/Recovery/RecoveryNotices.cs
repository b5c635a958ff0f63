using System.Globalization;
using MimeKit;
using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification.Actions;

namespace Portal.Web.Verification.Recovery;

/// <summary>What became of the notice after an action: sent, or not, with what the agent is told.</summary>
public sealed record RecoveryNoticeResult(bool Sent, string Message)
{
    /// <summary>The agent's words when the notice could not be sent (docs/recovery.md, "Recovery notices").</summary>
    public const string NotSentMessage = "The recovery notice could not be sent to the caller. Tell the caller's manager or your security team that this recovery was done.";

    public const string SentMessage = "A recovery notice was sent to the caller's e-mail address on file at the identity provider.";
}

/// <summary>The notice after an action through a recovery method; <see cref="ActionService"/> asks it after every action that went through.</summary>
public interface IRecoveryNotices
{
    /// <summary>
    /// Null when <paramref name="session"/>'s method is not a recovery method; otherwise the notice is sent (or not) and
    /// audited as <c>recovery.notice</c>. Never throws for a notice that could not be sent: the action stands.
    /// </summary>
    Task<RecoveryNoticeResult?> AfterActionAsync(AgentRequest request, CallerAction action, VerificationSession session, string callerId, ActionOutcome outcome, CancellationToken ct);
}

/// <summary>
/// NIST SP 800-63B-4 §4.2: after a recovery the subscriber is told (docs/recovery.md, "Recovery notices", V10). The
/// notice goes to the caller's e-mail address as the IdP has it now (read fresh, never typed by anyone), says what was
/// done, when and by the organisation's help desk, holds no secret, and carries a "This wasn't me" link. Only the
/// link's record is stored (<see cref="RecoveryNoticeStore"/>).
/// </summary>
public sealed class RecoveryNotices(
    TenantDirectories directories,
    RecoveryNoticeStore links,
    CallerReferences references,
    INoticeRelay relay,
    IAuditTrail audit,
    ILogger<RecoveryNotices> logger) : IRecoveryNotices
{
    /// <summary>The audit action of a notice (succeeded, or failed with a reason code).</summary>
    public const string NoticeAction = "recovery.notice";

    /// <summary>The link's path; the token follows.</summary>
    public const string NotMePath = "/recovery/not-me/";

    /// <summary>
    /// Whether recovery notices can be sent in this tenant: a relay is configured. No notice, no recovery: the recovery
    /// methods are offered only where this is true (docs/recovery.md).
    /// </summary>
    public static bool CanNotify(TenantSettings tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        return tenant.Recovery.Notices.Smtp.IsConfigured;
    }

    public async Task<RecoveryNoticeResult?> AfterActionAsync(AgentRequest request, CallerAction action, VerificationSession session, string callerId, ActionOutcome outcome, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(session);
        if (!VerificationMethods.IsRecovery(session.Method))
        {
            return null;
        }

        var tenant = request.Tenant;
        var entry = AuditEntries.For(request, NoticeAction, AuditOutcome.Succeeded, action.Name) with
        {
            CallerId = callerId,
            CallerLogin = session.CallerMaskedLogin,
            Method = session.Method,
        };
        string? failure;
        try
        {
            failure = await SendAsync(request, action, session, callerId, outcome, ct);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The action is done and its secret not yet shown: whatever failed here (the store, the secret, the IdP
            // client), the agent must still see the action's result, and be told the notice did not go.
            RecoveryLog.NoticeCrashed(logger, tenant.Id, ex.GetType().Name);
            failure = "notice_failed";
        }

        if (failure is null)
        {
            await RecordAsync(entry);
            return new RecoveryNoticeResult(true, RecoveryNoticeResult.SentMessage);
        }

        RecoveryLog.NoticeFailed(logger, tenant.Id, failure);
        await RecordAsync(entry with { Outcome = AuditOutcome.Failed, Reason = failure });
        return new RecoveryNoticeResult(false, RecoveryNoticeResult.NotSentMessage);
    }

    /// <summary>Null when sent; else the reason code. The link's record is removed again when nothing was sent.</summary>
    private async Task<string?> SendAsync(AgentRequest request, CallerAction action, VerificationSession session, string callerId, ActionOutcome outcome, CancellationToken ct)
    {
        var tenant = request.Tenant;
        if (!CanNotify(tenant))
        {
            return "no_relay";
        }

        string? address;
        try
        {
            var profile = await directories.For(tenant).GetCallerAsync(callerId, ct);
            if (!profile.IsSuccess)
            {
                return "idp_" + profile.Error.Code;
            }

            address = profile.Value.Email;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return "idp_unreachable";
        }

        if (string.IsNullOrWhiteSpace(address) || !MailboxAddress.TryParse(address, out var to))
        {
            return "no_address";
        }

        var now = links.Now;
        var token = RecoveryNoticeStore.NewToken();
        await links.CreateAsync(token, new RecoveryNoticeLink
        {
            TenantId = tenant.Id,
            CallerRefProtected = references.AtRest(tenant.Id, callerId),
            CallerIdHash = session.CallerIdHash,
            CallerMaskedLogin = session.CallerMaskedLogin,
            Action = action.Name,
            Method = session.Method,
            AgentSubject = request.Agent.Subject,
            AgentMaskedLogin = request.Agent.MaskedLogin,
            SentAt = now,
            ExpiresAt = now + RecoveryNoticeStore.LinkLifetime,
        }, ct);

        var message = Compose(tenant, to, action, outcome, request.Agent.MaskedLogin, now, new Uri(request.Origin.Absolute(NotMePath + token)));
        try
        {
            await relay.SendAsync(tenant, message, ct);
            return null;
        }
        catch (NoticeRelayException ex)
        {
            await ForgetAsync(token);
            return ex.Code;
        }
    }

    /// <summary>The notice, in memory only: plain text, no secret (never the password or code the action gave), the link.</summary>
    internal static MimeMessage Compose(TenantSettings tenant, MailboxAddress to, CallerAction action, ActionOutcome outcome, string agentMaskedLogin, DateTimeOffset at, Uri notMe)
    {
        var organisation = tenant.DisplayName;
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(tenant.Recovery.Notices.Smtp.From));
        message.To.Add(to);
        message.Date = at;
        message.Subject = $"{organisation}: the help desk acted on your account ({What(action)})";
        var when = at.UtcDateTime.ToString("dddd d MMMM yyyy 'at' HH:mm 'UTC'", CultureInfo.InvariantCulture);
        var partly = outcome.IsPartial ? " (partly)" : "";
        message.Body = new TextPart("plain")
        {
            Text = $"""
                {organisation}: account recovery

                On {when}, {organisation}'s help desk did this on your account{partly}: {What(action)}.
                It was done because someone who said they were you could not use their usual sign-in factor, and the account recovery procedure was followed. Help desk agent: {agentMaskedLogin}.

                If this was you, there is nothing more to do.

                If this wasn't you, open this link now. It removes your account's sign-in factors, signs it out everywhere and alerts your organisation's security team:
                {notMe.AbsoluteUri}

                Then call your security team. The link works once, for 7 days.

                The help desk will never ask you for your password or for a code from this message.
                """,
        };
        return message;
    }

    private static string What(CallerAction action) => action.Name switch
    {
        "password_reset" => "your password was reset",
        "sessions_revoke" => "you were signed out on every device",
        "account_unlock" => "your account was unlocked",
        "mfa_reset" => "your sign-in factors (MFA) were removed, to be enrolled again",
        "tap_issue" => "a temporary access code to sign in to your account was issued",
        _ => action.Title.ToLowerInvariant(),
    };

    private async Task ForgetAsync(string token)
    {
        try
        {
            await links.DeleteAsync(token, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The link was never sent: it expires with its record (7 days) if it cannot be removed now.
            RecoveryLog.LinkNotRemoved(logger, ex.GetType().Name);
        }
    }

    private async Task RecordAsync(AuditEntry entry)
    {
        try
        {
            await audit.RecordAsync(entry, CancellationToken.None);
        }
        catch (AuditUnavailableException)
        {
            // The action is done and its own record completed; this record's loss is logged by the trail.
        }
    }
}

/// <summary>Recovery log lines: tenant ids and reason codes only; never addresses, tokens, links or who the caller is.</summary>
internal static partial class RecoveryLog
{
    [LoggerMessage(EventId = PortalEvents.RecoveryNoticeFailed, Level = LogLevel.Warning, Message = "A recovery notice for tenant {TenantId} could not be sent: {Reason}")]
    public static partial void NoticeFailed(ILogger logger, string tenantId, string reason);

    [LoggerMessage(EventId = PortalEvents.RecoveryNoticeCrashed, Level = LogLevel.Error, Message = "A recovery notice for tenant {TenantId} failed unexpectedly ({ErrorType}); the action stands and the agent was told")]
    public static partial void NoticeCrashed(ILogger logger, string tenantId, string errorType);

    [LoggerMessage(EventId = PortalEvents.RecoveryNoticeLinkNotRemoved, Level = LogLevel.Warning, Message = "An unsent recovery notice's link record could not be removed ({ErrorType}); it expires by itself")]
    public static partial void LinkNotRemoved(ILogger logger, string errorType);

    [LoggerMessage(EventId = PortalEvents.RecoveryDisputed, Level = LogLevel.Warning, Message = "A recovery in tenant {TenantId} was disputed by the caller ({Action}); sessions revoked: {Revoked}")]
    public static partial void Disputed(ILogger logger, string tenantId, string action, bool revoked);
}
