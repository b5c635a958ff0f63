using System.Collections.Frozen;
using System.Globalization;

namespace Portal.Idp.Okta;

// Reconciliation's read of the System Log (listLogEvents), as Okta documents polling it: ascending, no `until`, and
// the `next` link followed for ever (it is always there when polling; an empty page means caught up). The link is
// kept as the cursor, checked like a push poll link: on the org's own host, on the System Log's path, nothing else.
internal sealed partial class OktaCallerDirectory
{
    internal const int LogPageSize = 200;

    internal const string LogsMissingRightMessage =
        "The portal's Okta credential may not read the System Log: a service app needs the okta.logs.read scope, and the admin role behind the credential must be allowed to view the System Log (Read-only Administrator or Report Administrator).";

    /// <summary>Okta's event types of the account actions reconciliation watches (Okta's event type catalogue).</summary>
    internal static readonly FrozenDictionary<string, AccountActionKind> AccountActionEventTypes = new Dictionary<string, AccountActionKind>(StringComparer.Ordinal)
    {
        ["user.account.reset_password"] = AccountActionKind.PasswordReset,
        ["user.account.expire_password"] = AccountActionKind.PasswordExpired,
        ["user.mfa.factor.reset_all"] = AccountActionKind.FactorsReset,
        ["user.mfa.factor.deactivate"] = AccountActionKind.FactorRemoved,
        ["user.mfa.factor.activate"] = AccountActionKind.FactorEnrolled,
        ["user.account.unlock_by_admin"] = AccountActionKind.Unlocked,
        ["user.session.clear"] = AccountActionKind.SessionsRevoked,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public async Task<IdpResult<AccountActionPage>> ReadAccountActionsAsync(string? cursor, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        Uri uri;
        if (cursor is null)
        {
            uri = new Uri(_baseUrl, FirstLogQuery(since));
        }
        else if (LogCursorUri(cursor) is { } next)
        {
            uri = next;
        }
        else
        {
            return new IdpError(IdpErrorKind.Invalid, "bad_cursor", "The stored position in the Okta System Log is not one the portal wrote; reconciliation starts again from its look-back window.");
        }

        var reply = await SendAsync("list_log_events", HttpMethod.Get, uri, cancellationToken);
        if (!reply.IsSuccess)
        {
            var error = reply.ToError(isRead: true);
            return error.Kind == IdpErrorKind.AccessDenied && error.Code != "missing_scope"
                ? new IdpError(IdpErrorKind.AccessDenied, error.Code, LogsMissingRightMessage)
                : error;
        }

        if (!TryRead(reply, "list_log_events", OktaJson.Default.ListOktaLogEvent, out var events) || events is null)
        {
            return OktaErrorMapper.Unreadable(isRead: true);
        }

        var actions = events.Select(ToAccountAction).OfType<AccountActionEvent>().ToList();
        string nextCursor;
        if (reply.NextLink is { } link && TrustedLogLink(link) is { } trusted)
        {
            nextCursor = trusted;
        }
        else if (reply.NextLink is not null)
        {
            OktaLog.Refused(_logger, "list_log_events", "next link on an untrusted host or path");
            return OktaErrorMapper.Unreadable(isRead: true);
        }
        else if (events.Select(e => e.Published).OfType<DateTimeOffset>().ToList() is { Count: > 0 } published)
        {
            // Not polling (Okta always sends `next` when it is): start again at the newest event read; the events of that
            // millisecond come again, and their ids keep them from being recorded twice.
            nextCursor = new Uri(_baseUrl, FirstLogQuery(published.Max())).PathAndQuery;
        }
        else
        {
            // Nothing read and nowhere to go: the same position next time.
            nextCursor = cursor ?? new Uri(_baseUrl, FirstLogQuery(since)).PathAndQuery;
        }

        return IdpResult<AccountActionPage>.Success(new AccountActionPage(actions, nextCursor, CaughtUp: events.Count < LogPageSize));
    }

    /// <summary>The first query: ascending from <paramref name="since"/>, only the watched event types.</summary>
    private static string FirstLogQuery(DateTimeOffset since)
    {
        var filter = string.Join(" or ", AccountActionEventTypes.Keys.Order(StringComparer.Ordinal).Select(t => $"eventType eq \"{t}\""));
        return string.Create(CultureInfo.InvariantCulture,
            $"api/v1/logs?since={Uri.EscapeDataString(since.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture))}&sortOrder=ASCENDING&limit={LogPageSize}&filter={Uri.EscapeDataString(filter)}");
    }

    /// <summary>
    /// The path and query of a <c>next</c> link Okta sent, when it is on the org's host (configured or canonical) and
    /// the System Log's path; null otherwise. Only the path and query are kept, so a stored cursor can only ever be
    /// requested from the configured org URL.
    /// </summary>
    internal string? TrustedLogLink(string link) => NextPageUri(link, LogPath)?.PathAndQuery;

    /// <summary>A stored cursor as a request on the configured org URL, or null when it is not a System Log query.</summary>
    private Uri? LogCursorUri(string cursor) => ListingUri(cursor, LogPath);

    private const string LogPath = "api/v1/logs";

    /// <summary>One event as an account action, or null: another event type, not a success, self-service, or incomplete.</summary>
    private AccountActionEvent? ToAccountAction(OktaLogEvent e)
    {
        if (e.Uuid is not { Length: > 0 } id || e.Published is not { } at || e.EventType is null
            || !AccountActionEventTypes.TryGetValue(e.EventType, out var kind)
            || !string.Equals(e.Outcome?.Result, "SUCCESS", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        // Okta's advice: find a target by its type, never by its place in the array.
        var user = e.Target?.FirstOrDefault(t => string.Equals(t.Type, "User", StringComparison.Ordinal) && !string.IsNullOrEmpty(t.Id));
        if (user is null || e.Actor is not { Id: { Length: > 0 } actorId } actor)
        {
            return null;
        }

        var actorIsUser = string.Equals(actor.Type, "User", StringComparison.Ordinal);
        if (actorIsUser && actorId == user.Id)
        {
            // The user acted on their own account (a self-service reset or enrolment): not a helpdesk action.
            return null;
        }

        if (kind == AccountActionKind.FactorEnrolled && e.Target!.Any(IsTemporaryAccessCode))
        {
            kind = AccountActionKind.TemporaryAccessIssued;
        }

        return new AccountActionEvent(id, at, kind, actorId, actor.AlternateId, !actorIsUser, user.Id!, user.AlternateId, ByPortal(e), e.Client?.IpAddress);
    }

    private static bool IsTemporaryAccessCode(OktaLogParty target) =>
        string.Equals(target.Type, "AuthenticatorEnrollment", StringComparison.Ordinal)
        && (target.DisplayName?.Contains("Temporary Access Code", StringComparison.OrdinalIgnoreCase) ?? false);

    /// <summary>
    /// Made with the portal's own credential: its service app (Okta logs the OAuth client as <c>client.id</c>) or its
    /// API token (logged as <c>transaction.detail.requestApiTokenId</c>). An SSWS token's actor is the admin who created
    /// it, so the actor alone cannot tell the portal from that admin at the Admin Console.
    /// </summary>
    private bool ByPortal(OktaLogEvent e) =>
        (_settings?.ServiceApp is { } app && (e.Client?.Id == app.ClientId || e.Actor?.Id == app.ClientId))
        || (_settings?.ApiTokenId is { Length: > 0 } tokenId && e.Transaction?.Detail?.RequestApiTokenId == tokenId);
}
