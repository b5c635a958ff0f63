using System.Globalization;
using System.Net.Http.Headers;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Portal.Idp.Okta;

/// <summary>
/// Turns Okta's answers and transport failures into <see cref="IdpError"/>s, in one place. The code is
/// Okta's errorCode (or a fixed token); Okta's own text is never passed on, because its summaries can
/// quote the login or the e-mail address that was asked for.
/// </summary>
internal static class OktaErrorMapper
{
    public const string NotFoundMessage = "Okta has no such user or factor.";
    public const string InvalidPasscodeMessage = "The code was not accepted.";
    public const string InvalidMessage = "Okta refused the request as invalid for this account.";
    public const string UnauthorizedMessage = "the portal's Okta API token was rejected: ask your administrator to check the tenant's Okta settings";
    public const string AccessDeniedMessage = "the portal's Okta role cannot do this for this user (administrators need a super-admin)";
    public const string RateLimitedMessage = "Okta is limiting how fast the portal may call it; try again shortly.";
    public const string WrongStatusMessage = "Okta does not allow this for the account in its current status";
    public const string DirectorySourcedUnlockMessage = "This account is sourced from a directory (such as Active Directory): unlock it there, not in Okta.";
    public const string UnavailableReadMessage = "Okta did not answer; nothing was changed";
    public const string UnavailableWriteMessage = "Okta did not answer; the outcome is unknown, check the account before retrying";

    /// <summary>Used when a 429 carries no X-Rate-Limit-Reset: Okta's limits are per minute.</summary>
    internal static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan MinimumRetryAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaximumRetryAfter = TimeSpan.FromHours(1);

    /// <summary>Maps a non-success answer. <paramref name="retryAfter"/> is used only for rate limiting.</summary>
    public static IdpError FromResponse(int statusCode, OktaErrorBody? body, bool isRead, TimeSpan? retryAfter = null)
    {
        var errorCode = SafeCode(body?.ErrorCode);
        var code = errorCode ?? "http_" + statusCode.ToString(CultureInfo.InvariantCulture);
        return errorCode switch
        {
            "E0000007" => new IdpError(IdpErrorKind.NotFound, code, NotFoundMessage),
            "E0000068" => new IdpError(IdpErrorKind.InvalidPasscode, code, InvalidPasscodeMessage),
            "E0000011" => new IdpError(IdpErrorKind.Unauthorized, code, UnauthorizedMessage),
            "E0000006" => new IdpError(IdpErrorKind.AccessDenied, code, AccessDeniedMessage),
            "E0000047" => RateLimited(code, retryAfter),
            "E0000001" => new IdpError(IdpErrorKind.Invalid, code, InvalidMessage),
            // Okta's "This operation is not allowed in the user's current status" (403): a lifecycle state, not a
            // missing right. The adapter names the state when it can read it (StateMessage).
            "E0000038" => new IdpError(IdpErrorKind.Conflict, code, WrongStatusMessage + "."),
            "E0000032" => new IdpError(IdpErrorKind.Conflict, code, DirectorySourcedUnlockMessage),
            _ => statusCode switch
            {
                404 => new IdpError(IdpErrorKind.NotFound, code, NotFoundMessage),
                401 => new IdpError(IdpErrorKind.Unauthorized, code, UnauthorizedMessage),
                403 => new IdpError(IdpErrorKind.AccessDenied, code, AccessDeniedMessage),
                429 => RateLimited(code, retryAfter),
                408 or >= 500 => Unavailable(code, isRead),
                _ => new IdpError(IdpErrorKind.Invalid, code, InvalidMessage),
            },
        };
    }

    /// <summary>What the agent reads when Okta refuses an operation for the account's status, naming that status.</summary>
    public static string StateMessage(CallerStatus status) => status switch
    {
        CallerStatus.Staged => WrongStatusMessage + ": the account is STAGED (created but never activated). Activate it in Okta first.",
        CallerStatus.Provisioned => WrongStatusMessage + ": the account is PROVISIONED (activation pending; the user has not set a password yet). Resend the activation in Okta instead.",
        CallerStatus.Suspended => WrongStatusMessage + ": the account is SUSPENDED. An Okta administrator must unsuspend it first.",
        CallerStatus.Deprovisioned => WrongStatusMessage + ": the account is DEPROVISIONED (deactivated). An Okta administrator must reactivate it first.",
        CallerStatus.LockedOut => WrongStatusMessage + ": the account is LOCKED_OUT. Unlock it first.",
        CallerStatus.PasswordExpired => WrongStatusMessage + ": the account's password has expired (PASSWORD_EXPIRED).",
        CallerStatus.Recovery => WrongStatusMessage + ": the account is in password recovery (RECOVERY).",
        CallerStatus.Active => WrongStatusMessage + ": the account is ACTIVE.",
        _ => WrongStatusMessage + ".",
    };

    /// <summary>Maps a transport failure; null when the exception is not one Okta being unreachable explains.</summary>
    public static IdpError? FromException(Exception exception, bool isRead) => exception switch
    {
        // An open circuit sent nothing: the outcome is known (nothing changed), whatever the message says.
        BrokenCircuitException => Unavailable("circuit_open", isRead) with { OutcomeUnknown = false },
        TimeoutRejectedException or TimeoutException or OperationCanceledException => Unavailable("timeout", isRead),
        HttpRequestException => Unavailable("unreachable", isRead),
        _ => null,
    };

    /// <summary>An answer the portal could not read (malformed JSON, a missing field).</summary>
    public static IdpError Unreadable(bool isRead) => Unavailable("bad_response", isRead);

    public static IdpError Unavailable(string code, bool isRead) =>
        new(IdpErrorKind.Unavailable, code, isRead ? UnavailableReadMessage : UnavailableWriteMessage) { OutcomeUnknown = !isRead };

    /// <summary>
    /// When to try again after a 429: the reset instant minus the server's clock (so that a skewed local
    /// clock does not matter) plus a second, never under one second.
    /// </summary>
    public static TimeSpan RetryAfter(long? resetEpochSeconds, DateTimeOffset? serverDate, DateTimeOffset now)
    {
        if (resetEpochSeconds is not { } reset)
        {
            return DefaultRetryAfter;
        }

        var reference = serverDate ?? now;
        var wait = DateTimeOffset.FromUnixTimeSeconds(reset) - reference + TimeSpan.FromSeconds(1);
        return wait < MinimumRetryAfter ? MinimumRetryAfter : wait > MaximumRetryAfter ? MaximumRetryAfter : wait;
    }

    public static TimeSpan RetryAfter(HttpResponseHeaders headers, DateTimeOffset now)
    {
        long? reset = null;
        if (headers.TryGetValues("X-Rate-Limit-Reset", out var values)
            && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            reset = parsed;
        }

        return RetryAfter(reset, headers.Date, now);
    }

    /// <summary>Whether an error says the passcode was already used (Okta's PASSCODE_REPLAYED, in any field).</summary>
    public static bool MentionsReplay(OktaErrorBody? body) => Mentions(body, "PASSCODE_REPLAYED");

    /// <summary>Whether Okta's error code, summary or any cause names <paramref name="word"/> (a field or a reason).</summary>
    public static bool Mentions(OktaErrorBody? body, string word)
    {
        if (body is null)
        {
            return false;
        }

        return In(body.ErrorCode) || In(body.ErrorSummary) || (body.ErrorCauses?.Exists(c => In(c.ErrorSummary)) ?? false);

        bool In(string? text) => text is not null && text.Contains(word, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Okta's errorCode or errorId when it has the shape Okta gives them; anything else is dropped so that a
    /// hostile or broken answer cannot put arbitrary text into the audit or the logs.
    /// </summary>
    public static string? SafeCode(string? code)
    {
        if (string.IsNullOrEmpty(code) || code.Length > 64)
        {
            return null;
        }

        foreach (var c in code)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '_' and not '-' and not '.')
            {
                return null;
            }
        }

        return code;
    }

    private static IdpError RateLimited(string code, TimeSpan? retryAfter) =>
        new(IdpErrorKind.RateLimited, code, RateLimitedMessage, retryAfter ?? DefaultRetryAfter);
}
