using System.Globalization;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;

namespace Portal.Idp.Entra;

/// <summary>Turns Graph's failures into <see cref="IdpError"/>s. Graph's own messages may name the user, so none is passed on.</summary>
internal static class GraphErrorMapper
{
    public const string PrivilegedMessage = "This account is privileged: your portal's Entra role cannot change it.";
    internal const string MissingRightMessage = "The portal's Entra app lacks the Graph permission or directory role for this.";
    internal const string DeniedMessage = "Entra refused: the account may be privileged, or the portal's Entra app lacks the permission for this.";

    /// <summary>Graph refused because the portal's app lacks <paramref name="permission"/>: what an administrator grants.</summary>
    public static string MissingPermissionMessage(string permission) =>
        "Entra refused: the portal's Entra app lacks the Graph application permission " + permission + ", which this needs. An Entra administrator must grant it and give admin consent; nothing was changed.";

    public static IdpError Map(ApiException exception, bool isRead)
    {
        var status = exception.ResponseStatusCode;
        var code = SafeCode((exception as ODataError)?.Error?.Code) ?? "http_" + status.ToString(CultureInfo.InvariantCulture);
        if (status == 400 && Message(exception)?.Contains("on-premises mastered", StringComparison.OrdinalIgnoreCase) == true)
        {
            // The user is synced from on-premises AD (checked before the write; this covers a change in between).
            return new IdpError(IdpErrorKind.Invalid, "synced_user", GraphCallerDirectory.SyncedUserMessage);
        }

        return status switch
        {
            404 => new IdpError(IdpErrorKind.NotFound, code, "Entra has no such user (or method)."),
            400 => new IdpError(IdpErrorKind.Invalid, code, "Entra refused the request as invalid; nothing was changed."),
            401 => new IdpError(IdpErrorKind.Unauthorized, code, "Entra refused the portal's token: check the tenant's Entra app settings."),
            403 => new IdpError(IdpErrorKind.AccessDenied, code, DeniedMessage),
            409 => new IdpError(IdpErrorKind.Conflict, code, "Entra refused the change in the account's current state."),
            429 => new IdpError(IdpErrorKind.RateLimited, code, "Entra is rate-limiting the portal; try again shortly.", RetryAfter(exception)),
            _ => Unavailable(code, isRead),
        };
    }

    /// <summary>Graph's own message, to recognise a refusal; never shown or logged (it may name the user).</summary>
    public static string? Message(ApiException exception) => (exception as ODataError)?.Error?.Message;

    public static IdpError Unavailable(string code, bool isRead) => new(
        IdpErrorKind.Unavailable,
        code,
        isRead
            ? "Microsoft Graph could not be reached or failed; try again shortly."
            : "Microsoft Graph could not be reached or failed; the change may or may not have happened. Check the account before trying again.")
    {
        OutcomeUnknown = !isRead,
    };

    /// <summary>Graph codes are identifiers (Request_ResourceNotFound, Authorization_RequestDenied); anything else is not echoed.</summary>
    private static string? SafeCode(string? code) =>
        code is { Length: > 0 and <= 64 } && code.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.') ? code : null;

    private static TimeSpan? RetryAfter(ApiException exception)
    {
        foreach (var (name, values) in exception.ResponseHeaders)
        {
            if (!string.Equals(name, "Retry-After", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = values.FirstOrDefault()?.Trim();
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                var delta = at - DateTimeOffset.UtcNow;
                return delta > TimeSpan.Zero ? delta : TimeSpan.Zero;
            }
        }

        return null;
    }
}
