using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace Portal.IdpEmulator;

/// <summary>
/// Okta's System Log listing (<c>GET /api/v1/logs</c>) over the emulator's admin-activity log, with the polling
/// semantics Okta documents: no <c>until</c> and ascending order make a polling query, whose answer always carries a
/// <c>next</c> link (even when empty), so that a reader keeps that URL and comes back for what happened since.
/// </summary>
internal static class OktaSystemLog
{
    private const int DefaultLimit = 100;
    private const int MaxLimit = 1000;
    private static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(7);

    /// <summary>The attributes a <c>filter</c> may compare with <c>eq</c> (terms joined by <c>or</c>).</summary>
    private static readonly string[] FilterAttributes = ["eventType", "target.id", "actor.id", "client.id", "transaction.detail.requestApiTokenId"];

    public static IResult List(HttpContext http, EmulatorState state, EmulatorContext context)
    {
        var query = http.Request.Query;
        if (query.ContainsKey("q"))
        {
            // Keyword search matches Okta's free text, which the emulator does not reproduce: refuse rather than
            // answer something a real org would not.
            return Invalid("q", "q: keyword search is not supported by the emulator; use filter.");
        }

        if (query.ContainsKey("since") && query.ContainsKey("after"))
        {
            return Invalid("since", "since and after are mutually exclusive: follow the next link, which carries after.");
        }

        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return Invalid("limit", $"limit: must be an integer between 1 and {MaxLimit}.");
        }

        var sortOrder = query.TryGetValue("sortOrder", out var sortText) ? sortText.ToString() : "ASCENDING";
        if (sortOrder is not ("ASCENDING" or "DESCENDING"))
        {
            return Invalid("sortOrder", "sortOrder: must be ASCENDING or DESCENDING.");
        }

        DateTimeOffset? until = null;
        if (query.TryGetValue("until", out var untilText))
        {
            if (ParseTime(untilText.ToString()) is not { } parsed)
            {
                return Invalid("until", "until: must be an ISO 8601 timestamp.");
            }

            until = parsed;
        }

        var now = state.Now;
        DateTimeOffset floor;
        long? after = null;
        if (query.TryGetValue("after", out var afterText))
        {
            if (ParseCursor(afterText.ToString()) is not { } cursor)
            {
                return Invalid("after", "after: not a cursor this org issued; follow the next link.");
            }

            (floor, after) = cursor;
        }
        else if (query.TryGetValue("since", out var sinceText))
        {
            if (ParseTime(sinceText.ToString()) is not { } since)
            {
                return Invalid("since", "since: must be an ISO 8601 timestamp.");
            }

            floor = since;
        }
        else
        {
            floor = (until ?? now) - DefaultWindow;
        }

        OktaSearchExpression? filter = null;
        if (query.TryGetValue("filter", out var filterText))
        {
            filter = OktaSearchExpression.Parse(filterText.ToString(), FilterAttributes);
            if (filter is null)
            {
                return OktaApi.Error(400, "E0000031", "Invalid search criteria.", "filter: the emulator understands attr eq \"value\" terms joined by or, on " + string.Join(", ", FilterAttributes) + ".");
            }
        }

        // Polling (Okta's term): no upper bound and ascending order. Then the pages never end.
        var ascending = sortOrder == "ASCENDING";
        var polling = until is null && ascending;
        var (events, lastSequence) = state.ActivitiesOf(IdpSide.Okta);
        var matched = events
            .Where(e => e.At >= floor && (until is not { } upper || e.At < upper))
            .Where(e => after is not { } position || (ascending ? e.Sequence > position : e.Sequence < position))
            .Where(e => filter is null || filter.Terms.Any(t => Matches(e, t.Attribute, t.Value)))
            .ToList();
        if (!ascending)
        {
            matched.Reverse();
        }

        var page = matched.Take(limit).ToList();
        var baseUrl = context.BaseFor(http.Request);
        var self = new Uri(baseUrl, http.Features.Get<IHttpRequestFeature>()?.RawTarget?.TrimStart('/') ?? "api/v1/logs");
        var links = new List<string> { $"<{self.AbsoluteUri}>; rel=\"self\"" };
        long? next = polling
            // A short page means every event recorded so far has been seen (or filtered out): resume after the last
            // one recorded, so that the next poll returns only newer events.
            ? page.Count == limit ? page[^1].Sequence : lastSequence
            : matched.Count > page.Count ? page[^1].Sequence : null;
        if (next is { } position)
        {
            var nextQuery = QueryString.Create(query
                .Where(q => q.Key is not ("after" or "since"))
                .Select(q => new KeyValuePair<string, string?>(q.Key, q.Value.ToString()))
                .Append(new KeyValuePair<string, string?>("after", Cursor(floor, position))));
            links.Add($"<{new Uri(baseUrl, "api/v1/logs" + nextQuery.ToUriComponent()).AbsoluteUri}>; rel=\"next\"");
        }

        http.Response.Headers.Link = links.ToArray();
        return OktaApi.Json(new JsonArray([.. page.Select(e => (JsonNode)LogEventJson(e))]));
    }

    /// <summary>The event type, display message and legacy event type Okta gives an action.</summary>
    internal static (string EventType, string DisplayMessage, string? LegacyEventType) Describe(AdminActivityKind kind) => kind switch
    {
        // Okta's event type catalogue: user.identity_verification has no legacy event type.
        AdminActivityKind.IdentityVerified or AdminActivityKind.IdentityNotVerified or AdminActivityKind.IdentityVerificationOther => ("user.identity_verification", "User identity verification", null),
        AdminActivityKind.PasswordReset => ("user.account.reset_password", "Reset password for user", "core.user.config.password_reset"),
        AdminActivityKind.PasswordExpired => ("user.account.expire_password", "Expire password for user", "core.user.config.password_expired"),
        AdminActivityKind.FactorsReset => ("user.mfa.factor.reset_all", "Reset all factors for user", "core.user.factor.reset_all"),
        AdminActivityKind.FactorRemoved => ("user.mfa.factor.deactivate", "Reset factor for user", "core.user.factor.deactivate"),
        AdminActivityKind.Unlocked => ("user.account.unlock_by_admin", "User account unlock by admin", "core.user.config.user_unlocked_by_admin"),
        AdminActivityKind.SessionsCleared => ("user.session.clear", "Clear user session", "core.user_auth.session_clear"),
        AdminActivityKind.TemporaryAccessIssued => ("user.mfa.factor.activate", "Activate factor or authenticator enrollment method for user", "core.user.factor.activate"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static JsonObject LogEventJson(AdminActivity e)
    {
        var (eventType, displayMessage, legacyEventType) = Describe(e.Kind);
        var actor = e.Actor;
        var targets = e.Parties == IdentityVerificationParties.UserActorOnly
            // The user only as the actor: the target is the verification vendor's identity provider.
            ? new JsonArray(new JsonObject
            {
                ["id"] = EmulatorAdmins.IdvIdentityProviderId,
                ["type"] = "IdentityProvider",
                ["alternateId"] = "IDV_PERSONA",
                ["displayName"] = "Persona",
            })
            : new JsonArray(new JsonObject
            {
                ["id"] = e.TargetId,
                ["type"] = "User",
                ["alternateId"] = e.TargetLogin,
                ["displayName"] = e.TargetDisplayName,
            });
        if (e.Kind == AdminActivityKind.TemporaryAccessIssued && e.Detail is { } enrollmentId)
        {
            // Okta's spec: look for a target by type, never by position.
            targets.Add(new JsonObject
            {
                ["id"] = enrollmentId,
                ["type"] = "AuthenticatorEnrollment",
                ["alternateId"] = "tac",
                ["displayName"] = "Temporary Access Code",
            });
        }

        var detail = new JsonObject();
        if (actor.ApiTokenId is { } tokenId)
        {
            detail["requestApiTokenId"] = tokenId;
        }

        var json = new JsonObject
        {
            ["uuid"] = e.Id,
            ["published"] = OktaApi.Timestamp(e.At),
            ["eventType"] = eventType,
            ["version"] = "0",
            ["severity"] = "INFO",
            ["legacyEventType"] = legacyEventType,
            ["displayMessage"] = displayMessage,
            ["actor"] = new JsonObject
            {
                ["id"] = actor.Id,
                ["type"] = actor.Kind switch
                {
                    AdminActorKind.OktaServiceApp => "PublicClientApp",
                    AdminActorKind.OktaSystem => "SystemPrincipal",
                    _ => "User",
                },
                ["alternateId"] = actor.AlternateId,
                ["displayName"] = actor.DisplayName,
            },
            ["client"] = new JsonObject
            {
                ["id"] = actor.ClientId,
                ["userAgent"] = UserAgentJson(actor.UserAgent),
                ["ipAddress"] = actor.IpAddress,
            },
            ["outcome"] = e.Kind switch
            {
                AdminActivityKind.IdentityVerified => new JsonObject { ["result"] = "ALLOW", ["reason"] = "CLAIMS_VERIFIED" },
                AdminActivityKind.IdentityNotVerified => new JsonObject { ["result"] = "DENY", ["reason"] = "CLAIMS_NOT_VERIFIED" },
                AdminActivityKind.IdentityVerificationOther => e.OutcomeReason is { } reason
                    ? new JsonObject { ["result"] = e.OutcomeResult, ["reason"] = reason }
                    : new JsonObject { ["result"] = e.OutcomeResult },
                _ => new JsonObject { ["result"] = "SUCCESS" },
            },
            ["target"] = targets,
            ["transaction"] = new JsonObject
            {
                ["type"] = "WEB",
                ["id"] = e.TransactionId,
                ["detail"] = detail,
            },
        };
        if (legacyEventType is null)
        {
            json.Remove("legacyEventType");
        }

        if (e.ClientCity is not null || e.ClientCountry is not null)
        {
            // Okta's geographical context of the request, at city level here (Okta also gives state, postal code and coordinates).
            var geo = new JsonObject();
            if (e.ClientCity is { } city)
            {
                geo["city"] = city;
            }

            if (e.ClientCountry is { } country)
            {
                geo["country"] = country;
            }

            json["client"]!["geographicalContext"] = geo;
        }

        if (actor.ClientId.Length == 0)
        {
            // A user's own activity in a browser: no OAuth client made the request.
            json["client"]!.AsObject().Remove("id");
        }

        return json;
    }

    /// <summary>
    /// Okta's <c>client.userAgent</c>: the raw header, and the OS and browser Okta derives from it (the emulator knows the
    /// few agents it logs; others get the raw header only).
    /// </summary>
    private static JsonObject UserAgentJson(string raw)
    {
        var json = new JsonObject { ["rawUserAgent"] = raw };
        var (os, browser) = raw switch
        {
            _ when raw.Contains("iPhone OS 17_5", StringComparison.Ordinal) => ("iOS 17.5", "SAFARI"),
            _ when raw.Contains("Windows NT 10.0", StringComparison.Ordinal) && raw.Contains("Chrome/", StringComparison.Ordinal) => ("Windows 10", "CHROME"),
            _ when raw.Contains("Android 14", StringComparison.Ordinal) && raw.Contains("Chrome/", StringComparison.Ordinal) => ("Android 14", "CHROME"),
            _ => ((string?)null, (string?)null),
        };
        if (os is not null)
        {
            json["os"] = os;
            json["browser"] = browser;
        }

        return json;
    }

    private static bool Matches(AdminActivity e, string attribute, string value) => attribute switch
    {
        "eventType" => Describe(e.Kind).EventType == value,
        "target.id" => (e.Parties != IdentityVerificationParties.UserActorOnly && e.TargetId == value) || (e.Kind == AdminActivityKind.TemporaryAccessIssued && e.Detail == value),
        "actor.id" => e.Actor.Id == value,
        "client.id" => e.Actor.ClientId == value,
        "transaction.detail.requestApiTokenId" => e.Actor.ApiTokenId == value,
        _ => false,
    };

    /// <summary>
    /// The <c>after</c> cursor: the lower time bound still in force, in epoch milliseconds, and the recording position
    /// of the last event already seen (the shape of Okta's documented example <c>1627500044869_1</c>). Okta calls it
    /// opaque: readers follow the next link and never build one.
    /// </summary>
    private static string Cursor(DateTimeOffset floor, long position) =>
        floor.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "_" + position.ToString(CultureInfo.InvariantCulture);

    private static (DateTimeOffset Floor, long Position)? ParseCursor(string cursor)
    {
        var parts = cursor.Split('_');
        return parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms)
            && ms is >= -62135596800000 and <= 253402300799999
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var position)
            ? (DateTimeOffset.FromUnixTimeMilliseconds(ms), position)
            : null;
    }

    private static DateTimeOffset? ParseTime(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) && text.Contains('T', StringComparison.Ordinal)
            ? at
            : null;

    private static IResult Invalid(string parameter, string cause) =>
        OktaApi.Error(400, "E0000001", "Api validation failed: " + parameter, cause);
}
