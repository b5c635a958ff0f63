using System.Collections.Frozen;
using System.Globalization;
using Microsoft.Graph.Models;

namespace Portal.Idp.Entra;

// Reconciliation's read of Entra's directory audits (GET /auditLogs/directoryAudits, AuditLog.Read.All). Graph has no
// polling cursor: the log is read by activityDateTime, ascending, and an event can reach it minutes after it happened,
// so each read starts a while before the newest time the previous one saw. The event id makes the repeats harmless
// (reconciliation records an event once, by its id).
internal sealed partial class GraphCallerDirectory
{
    /// <summary>How far before the newest event of the last read the next read starts (Entra's log lags behind).</summary>
    internal static readonly TimeSpan AuditLogOverlap = TimeSpan.FromMinutes(15);

    internal const int AuditPageSize = 200;

    /// <summary>
    /// Entra's activity names of the account actions reconciliation watches (Microsoft Entra audit log activity
    /// reference). A Temporary Access Pass is an "Admin registered security info" whose result reason names it.
    /// </summary>
    internal static readonly FrozenDictionary<string, AccountActionKind> AccountActivities = new Dictionary<string, AccountActionKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["Reset user password"] = AccountActionKind.PasswordReset,
        ["Reset password (by admin)"] = AccountActionKind.PasswordReset,
        ["Reset password"] = AccountActionKind.PasswordReset,
        ["Set force change user password"] = AccountActionKind.PasswordExpired,
        ["Admin registered security info"] = AccountActionKind.FactorEnrolled,
        ["Admin deleted security info"] = AccountActionKind.FactorRemoved,
        ["Update StsRefreshTokenValidFrom Timestamp"] = AccountActionKind.SessionsRevoked,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    public async Task<IdpResult<AccountActionPage>> ReadAccountActionsAsync(string? cursor, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        var from = since;
        var newest = since;
        if (cursor is not null)
        {
            if (ReadCursor(cursor) is not { } position)
            {
                return new IdpError(IdpErrorKind.Invalid, "bad_cursor", "The stored position in Entra's audit log is not one the portal wrote; reconciliation starts again from its look-back window.");
            }

            // After a read that reached the end, go back by the overlap; after one that stopped at its page limit, go on.
            from = position.CaughtUp ? position.Newest - AuditLogOverlap : position.Newest;

            // The position never moves back: an overlap that finds nothing keeps it where it was.
            newest = position.Newest;
        }

        return await RunAsync("read_audit_log", isRead: true, async ct =>
        {
            var filter = "activityDateTime ge " + from.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            var page = await graph.AuditLogs.DirectoryAudits.GetAsync(
                r =>
                {
                    r.QueryParameters.Filter = filter;
                    r.QueryParameters.Orderby = ["activityDateTime asc"];
                    r.QueryParameters.Top = AuditPageSize;
                },
                ct);
            var events = new List<AccountActionEvent>();
            var caughtUp = true;
            for (var pages = 1; ; pages++)
            {
                foreach (var audit in page?.Value ?? [])
                {
                    if (audit.ActivityDateTime is { } at && at > newest)
                    {
                        newest = at;
                    }

                    if (ToAccountAction(audit) is { } action)
                    {
                        events.Add(action);
                    }
                }

                if (page?.OdataNextLink is not { } next)
                {
                    break;
                }

                if (pages >= MaxPages)
                {
                    caughtUp = false;
                    break;
                }

                if (!IsGraphLink(next))
                {
                    return Unreadable(isRead: true);
                }

                page = await graph.AuditLogs.DirectoryAudits.WithUrl(next).GetAsync(cancellationToken: ct);
            }

            return IdpResult<AccountActionPage>.Success(new AccountActionPage(events, WriteCursor(newest, caughtUp), caughtUp));
        }, cancellationToken);
    }

    /// <summary>One directory audit as an account action, or null: another activity, a failure, self-service, or incomplete.</summary>
    private AccountActionEvent? ToAccountAction(DirectoryAudit audit)
    {
        if (audit.Id is not { Length: > 0 } id || audit.ActivityDateTime is not { } at || audit.Result != OperationResult.Success
            || audit.ActivityDisplayName is null || !AccountActivities.TryGetValue(audit.ActivityDisplayName, out var kind))
        {
            return null;
        }

        var target = audit.TargetResources?.FirstOrDefault(t => string.Equals(t.Type, "User", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(t.Id));
        if (target is null)
        {
            return null;
        }

        string actorId;
        string? actorLogin;
        string? actorAddress = null;
        var isApplication = false;
        if (audit.InitiatedBy?.User is { Id: { Length: > 0 } userId } user)
        {
            if (userId == target.Id)
            {
                // The user acted on their own account (self-service registration or reset): not a helpdesk action.
                return null;
            }

            (actorId, actorLogin, actorAddress) = (userId, user.UserPrincipalName, user.IpAddress);
        }
        else if (audit.InitiatedBy?.App is { AppId: { Length: > 0 } appId } app)
        {
            (actorId, actorLogin, isApplication) = (appId, app.DisplayName, true);
        }
        else
        {
            return null;
        }

        if (kind == AccountActionKind.FactorEnrolled && (audit.ResultReason?.Contains("temporary access pass", StringComparison.OrdinalIgnoreCase) ?? false))
        {
            kind = AccountActionKind.TemporaryAccessIssued;
        }

        var byPortal = isApplication && portalAppId is not null && string.Equals(actorId, portalAppId, StringComparison.OrdinalIgnoreCase);
        return new AccountActionEvent(id, at, kind, actorId, actorLogin, isApplication, target.Id!, target.UserPrincipalName, byPortal, actorAddress);
    }

    /// <summary>A next link on Graph's own origin: the token is never sent anywhere else.</summary>
    private bool IsGraphLink(string link) =>
        Uri.TryCreate(link, UriKind.Absolute, out var uri) && Uri.TryCreate(graph.RequestAdapter.BaseUrl, UriKind.Absolute, out var root)
        && string.Equals(uri.Scheme, root.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.IdnHost, root.IdnHost, StringComparison.OrdinalIgnoreCase)
        && uri.Port == root.Port
        && uri.UserInfo.Length == 0;

    private static string WriteCursor(DateTimeOffset newest, bool caughtUp) =>
        (caughtUp ? "c:" : "p:") + newest.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static (DateTimeOffset Newest, bool CaughtUp)? ReadCursor(string cursor) =>
        cursor.Length > 2 && cursor[0] is 'c' or 'p' && cursor[1] == ':'
        && DateTimeOffset.TryParseExact(cursor[2..], "O", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var newest)
            ? (newest, cursor[0] == 'c')
            : null;
}
