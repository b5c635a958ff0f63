using System.Globalization;

namespace Portal.Idp.Okta;

// Identity verification through Okta (docs/recovery.md): Okta gives an app no claim for it (no acr or amr value, no
// token field); what it documents is the System Log event user.identity_verification, written when a user finishes the
// verification vendor's check that an Okta account management policy asked for, with the outcome ALLOW (reason
// CLAIMS_VERIFIED) or DENY. So the portal reads that event, for this caller, since the agent started.
internal sealed partial class OktaCallerDirectory
{
    internal const string IdentityVerificationEventType = "user.identity_verification";

    internal const int IdentityVerificationPageSize = 100;

    /// <summary>
    /// How many pages of the org's identity verifications since the start the portal reads before it gives up (the
    /// window is the verification's few minutes, so a real org has far fewer). Past it, an error, never a guess.
    /// </summary>
    internal const int IdentityVerificationMaxPages = 5;

    public async Task<IdpResult<IdentityVerificationResult>> FindIdentityVerificationAsync(string callerId, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        // Okta's timestamps are to the millisecond: an event of the start's own millisecond is after the start.
        since = new DateTimeOffset(since.UtcTicks - (since.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
        var uri = new Uri(_baseUrl, IdentityVerificationQuery(since));
        for (var page = 0; page < IdentityVerificationMaxPages; page++)
        {
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

            // The first result for this caller decides: a denial is not undone by a later success in the same attempt.
            var first = events
                .Where(e => e.EventType == IdentityVerificationEventType && e.Published is { } at && at >= since && IsAbout(e, callerId))
                .OrderBy(e => e.Published)
                .FirstOrDefault();
            if (first is not null)
            {
                return IdpResult<IdentityVerificationResult>.Success(ToIdentityVerification(first));
            }

            if (events.Count < IdentityVerificationPageSize)
            {
                return IdpResult<IdentityVerificationResult>.Success(IdentityVerificationResult.NotYet);
            }

            if (reply.NextLink is not { } link || TrustedLogLink(link) is not { } next)
            {
                OktaLog.Refused(_logger, "list_log_events", "a full page without a next link on the org's host");
                return OktaErrorMapper.Unreadable(isRead: true);
            }

            uri = new Uri(_baseUrl, next);
        }

        return new IdpError(IdpErrorKind.Unavailable, "too_many_events",
            "Okta's System Log holds more identity verifications since this one started than the portal reads; nothing was decided. Check the caller's verification in Okta, or start again.");
    }

    /// <summary>Ascending from the start, the one event type: the org's verifications since then, oldest first.</summary>
    private static string IdentityVerificationQuery(DateTimeOffset since) => string.Create(CultureInfo.InvariantCulture,
        $"api/v1/logs?since={Uri.EscapeDataString(since.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture))}&sortOrder=ASCENDING&limit={IdentityVerificationPageSize}&filter={Uri.EscapeDataString($"eventType eq \"{IdentityVerificationEventType}\"")}");

    /// <summary>
    /// Whether the event is this caller's: the user who verified is the actor (they act for themself), or a target of
    /// type <c>User</c> (Okta's advice: find a target by its type, never by its place).
    /// </summary>
    private static bool IsAbout(OktaLogEvent e, string callerId) =>
        (e.Actor is { Type: "User", Id: { } actorId } && actorId == callerId)
        || (e.Target?.Any(t => string.Equals(t.Type, "User", StringComparison.Ordinal) && t.Id == callerId) ?? false);

    /// <summary>
    /// Verified only for Okta's documented pass: ALLOW with the reason CLAIMS_VERIFIED. DENY is the person at the check
    /// failing it; anything else (another result of Okta's outcome list, ALLOW with another reason, no outcome) is no
    /// decision: not verified, and no one was seen failing.
    /// </summary>
    private static IdentityVerificationResult ToIdentityVerification(OktaLogEvent e)
    {
        var result = e.Outcome?.Result;
        var reason = e.Outcome?.Reason;
        var state = (result, reason) switch
        {
            ("ALLOW", "CLAIMS_VERIFIED") => IdentityVerificationState.Verified,
            ("DENY", _) => IdentityVerificationState.NotVerified,
            _ => IdentityVerificationState.NoDecision,
        };
        return new IdentityVerificationResult(state, e.Uuid, e.Published, AuditSafe(reason ?? result ?? "no_outcome"))
        {
            Client = ClientOf(e.Client),
        };
    }

    /// <summary>
    /// Where and on what Okta recorded the check, as Okta gives it (its city and country of the request, the OS and
    /// browser it read from the user agent), each cut to a short plain text; never the address.
    /// </summary>
    private static IdentityVerificationClient? ClientOf(OktaLogClient? client)
    {
        var found = new IdentityVerificationClient(
            Plain(client?.GeographicalContext?.City),
            Plain(client?.GeographicalContext?.Country),
            Plain(client?.UserAgent?.Os),
            Plain(client?.UserAgent?.Browser));
        return found.IsEmpty ? null : found;
    }

    private static string? Plain(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var clean = new string([.. text.Trim().Where(c => !char.IsControl(c))]);
        return clean.Length <= 64 ? clean : clean[..64];
    }

    /// <summary>Okta's reason codes are upper-case words and underscores; anything else is not written to the audit.</summary>
    private static string AuditSafe(string code) =>
        code.Length is > 0 and <= 64 && code.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? code : "unrecognised";
}
