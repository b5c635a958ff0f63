using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;

namespace Portal.Idp.Okta;

/// <summary>
/// <see cref="ICallerDirectory"/> over Okta's Management API (<c>/api/v1</c>) with an SSWS API token or a service
/// app's access token; its onboarding check is in <c>OktaCallerDirectory.CapabilityCheck.cs</c>.
/// </summary>
internal sealed partial class OktaCallerDirectory : ICallerDirectory
{
    internal const int MaxSearchLength = 256;
    internal const string DefaultUserAgent = "Portal";

    /// <summary>A GET rate-limited for longer than this is not waited for: the agent is told instead.</summary>
    internal static readonly TimeSpan MaxRateLimitWait = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan DefaultPushLifetime = TimeSpan.FromMinutes(5);
    private const int MaxIdLength = 128;
    private const int MaxPollReferenceLength = 2048;
    private const int MaxUserAgentLength = 512;
    private const int SearchLimit = 20;

    private readonly HttpClient _http;
    private readonly Uri _baseUrl;
    private readonly OktaCredential _credential;
    private readonly OktaConnectionSettings? _settings;
    private readonly bool _readsAuditLog;
    private readonly Uri? _canonicalBaseUrl;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public OktaCallerDirectory(HttpClient http, Uri baseUrl, string apiToken, TimeProvider time, ILogger<OktaCallerDirectory> logger, OktaConnectionSettings? settings = null)
        : this(http, baseUrl, new SswsCredential(apiToken), time, logger, settings)
    {
    }

    public OktaCallerDirectory(HttpClient http, Uri baseUrl, OktaCredential credential, TimeProvider time, ILogger<OktaCallerDirectory> logger, OktaConnectionSettings? settings = null, bool readsAuditLog = false)
    {
        _settings = settings;
        _readsAuditLog = readsAuditLog;
        _canonicalBaseUrl = CanonicalOrigin(settings?.CanonicalBaseUrl, baseUrl);
        _http = http;
        _baseUrl = baseUrl;
        _credential = credential;
        _time = time;
        _logger = logger;
    }

    public async Task<IdpResult<CallerProfile>> FindCallerAsync(string loginOrEmail, CancellationToken cancellationToken = default)
    {
        var value = loginOrEmail?.Trim();
        if (string.IsNullOrEmpty(value) || value.Length > MaxSearchLength || value.Any(char.IsControl))
        {
            return new IdpError(IdpErrorKind.Invalid, "invalid_search", "Enter the caller's exact login or e-mail address (1 to 256 characters).");
        }

        var search = Uri.EscapeDataString(OktaFilter.LoginOrEmail(value));
        var reply = await SendAsync("find_caller", HttpMethod.Get, Api($"users?search={search}&limit={SearchLimit.ToString(CultureInfo.InvariantCulture)}"), cancellationToken);
        if (!reply.IsSuccess)
        {
            return reply.ToError(isRead: true);
        }

        if (!TryRead(reply, "find_caller", OktaJson.Default.ListOktaUser, out var users) || users is null)
        {
            return OktaErrorMapper.Unreadable(isRead: true);
        }

        var user = users.Count switch
        {
            0 => null,
            1 => users[0],
            // Logins are unique in Okta, so an exact login match settles a search that also matched e-mail addresses.
            _ => users.Where(u => string.Equals(u.Profile?.Login, value, StringComparison.OrdinalIgnoreCase)).ToList() is [var exact] ? exact : null,
        };
        if (user is null)
        {
            return users.Count == 0
                ? new IdpError(IdpErrorKind.NotFound, "not_found", "No Okta user has that login or e-mail address.")
                : new IdpError(IdpErrorKind.NotFound, "ambiguous", "More than one Okta user matches; enter the caller's exact login.");
        }

        return ToProfile(user, "find_caller");
    }

    public async Task<IdpResult<CallerProfile>> GetCallerAsync(string callerId, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(callerId))
        {
            return InvalidId();
        }

        var reply = await SendAsync("get_caller", HttpMethod.Get, UserApi(callerId, ""), cancellationToken);
        if (!reply.IsSuccess)
        {
            return reply.ToError(isRead: true);
        }

        return TryRead(reply, "get_caller", OktaJson.Default.OktaUser, out var user) && user is not null
            ? ToProfile(user, "get_caller")
            : OktaErrorMapper.Unreadable(isRead: true);
    }

    /// <summary>
    /// The user the caller's <c>profile.managerId</c> names (Okta's base-profile attribute, which organisations fill with
    /// the manager's Okta user id or login; get-user accepts either), read as callers are read. No managerId, one the
    /// portal will not put into a path, or one that names no user of the org: <c>no_manager</c>. Every other failure of
    /// either read maps as any read does, so that an outage is never told to the agent as "no manager".
    /// </summary>
    public async Task<IdpResult<CallerProfile>> GetManagerAsync(string callerId, CancellationToken cancellationToken = default)
    {
        const string Operation = "get_manager";
        if (!IsValidId(callerId))
        {
            return InvalidId();
        }

        var reply = await SendAsync(Operation, HttpMethod.Get, UserApi(callerId, ""), cancellationToken);
        if (!reply.IsSuccess)
        {
            return reply.ToError(isRead: true);
        }

        if (!TryRead(reply, Operation, OktaJson.Default.OktaUser, out var caller) || caller is null)
        {
            return OktaErrorMapper.Unreadable(isRead: true);
        }

        var managerId = caller.Profile?.ManagerId?.Trim();
        if (string.IsNullOrEmpty(managerId))
        {
            return NoManager();
        }

        if (!IsValidId(managerId) && !IsUsableLogin(managerId))
        {
            // The value comes from the IdP, not the agent: one that could change the request's path is not sent.
            OktaLog.Refused(_logger, Operation, "manager_id_rejected");
            return NoManager();
        }

        var manager = await SendAsync(Operation, HttpMethod.Get, UserApi(managerId, ""), cancellationToken);
        if (!manager.IsSuccess)
        {
            var error = manager.ToError(isRead: true);
            return error.Kind == IdpErrorKind.NotFound && manager.TransportError is null ? NoManager() : error;
        }

        return TryRead(manager, Operation, OktaJson.Default.OktaUser, out var user) && user is not null
            ? ToProfile(user, Operation)
            : OktaErrorMapper.Unreadable(isRead: true);
    }

    internal const string NoManagerMessage = "Okta names no manager for this caller (profile managerId), or names one who is not a user of the org: manager approval cannot be used.";

    private static IdpError NoManager() => new(IdpErrorKind.NotFound, "no_manager", NoManagerMessage);

    /// <summary>
    /// A login as the adapter accepts one in a search (1 to 256 characters, no control characters), that is also safe as
    /// one path segment: no white space, no slash or backslash, not a dot segment.
    /// </summary>
    internal static bool IsUsableLogin(string? login) =>
        !string.IsNullOrEmpty(login) && login.Length <= MaxSearchLength && login is not ("." or "..")
        && !login.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '/' or '\\');

    public async Task<IdpResult<IReadOnlyList<CallerFactor>>> ListFactorsAsync(string callerId, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(callerId))
        {
            return InvalidId();
        }

        var reply = await SendAsync("list_factors", HttpMethod.Get, UserApi(callerId, "/factors"), cancellationToken);
        if (!reply.IsSuccess)
        {
            return reply.ToError(isRead: true);
        }

        if (!TryRead(reply, "list_factors", OktaJson.Default.ListOktaFactor, out var factors) || factors is null)
        {
            return OktaErrorMapper.Unreadable(isRead: true);
        }

        return IdpResult<IReadOnlyList<CallerFactor>>.Success([.. factors.Where(f => !string.IsNullOrEmpty(f.Id)).Select(f => WithTrustedLinks(f, OktaFactorRules.Classify(f)))]);
    }

    /// <summary>
    /// A push is polled at the link Okta writes into its answer, and the portal polls only a host it trusts
    /// (<see cref="TrustedPollUri"/>). Okta writes the factor's own links on the same host as that poll link, so a
    /// push factor whose links name another host is not offered: the check runs before the push reaches the caller's
    /// phone, not after. The agent reads which host and what an administrator can do.
    /// </summary>
    private CallerFactor WithTrustedLinks(OktaFactor factor, CallerFactor classified)
    {
        if (classified.Kind != FactorKind.Push || classified.Method is null)
        {
            return classified;
        }

        var link = factor.Links?.Verify?.Href ?? factor.Links?.Self?.Href;
        if (link is null || !Uri.TryCreate(link, UriKind.Absolute, out var uri) || IsTrustedOrigin(uri))
        {
            return classified;
        }

        OktaLog.Refused(_logger, "list_factors", "push_links_untrusted");
        return classified with
        {
            Method = null,
            NotChallengeableReason = "Okta answers this push on " + uri.GetLeftPart(UriPartial.Authority) + ", which is neither the org URL the portal is configured with nor the canonical host its connection test found, so its result could not be checked: an administrator can run Test connection or set the tenant's org URL to that host",
        };
    }

    /// <summary>
    /// Okta's page size for a user's groups: listUserGroups takes <c>limit</c> up to 200, which is also its default
    /// (Okta's API reference; the published OpenAPI document names no parameters for it), and says where the next page
    /// is in a <c>Link: rel="next"</c> header with an <c>after</c> cursor.
    /// </summary>
    internal const int GroupPageSize = 200;

    /// <summary>
    /// The most pages of a user's groups the portal reads: ten pages of 200 is 2,000 groups, far beyond any person's
    /// memberships, and ten requests is as much of Okta's rate limit as one privileged check should spend. Past it
    /// the answer is an error, never the groups read so far: a privileged group could be on a page not read, and a
    /// failed read leaves the caller's privilege unknown, which needs a second agent's approval.
    /// </summary>
    internal const int MaxGroupPages = 10;

    internal const string TooManyGroupsMessage = "The caller is in more Okta groups than the portal reads (over 2,000), so whether one of them is a privileged group is not known.";

    public async Task<IdpResult<IReadOnlyList<string>>> ListGroupsAsync(string callerId, CancellationToken cancellationToken = default)
    {
        const string Operation = "list_groups";
        if (!IsValidId(callerId))
        {
            return InvalidId();
        }

        // Every page is read: a privileged group on a later page must not read as "not privileged".
        var path = "api/v1/users/" + Uri.EscapeDataString(callerId) + "/groups";
        var uri = new Uri(_baseUrl, path + "?limit=" + GroupPageSize.ToString(CultureInfo.InvariantCulture));
        var names = new List<string>();
        for (var page = 1; ; page++)
        {
            var reply = await SendAsync(Operation, HttpMethod.Get, uri, cancellationToken);
            if (!reply.IsSuccess)
            {
                return reply.ToError(isRead: true);
            }

            if (!TryRead(reply, Operation, OktaJson.Default.ListOktaGroup, out var groups) || groups is null)
            {
                return OktaErrorMapper.Unreadable(isRead: true);
            }

            names.AddRange(groups.Select(g => g.Profile?.Name).OfType<string>());
            if (reply.NextLink is not { } link)
            {
                return IdpResult<IReadOnlyList<string>>.Success(names);
            }

            if (page >= MaxGroupPages)
            {
                OktaLog.Refused(_logger, Operation, "too_many_groups");
                return new IdpError(IdpErrorKind.Invalid, "too_many_groups", TooManyGroupsMessage);
            }

            if (NextPageUri(link, path) is not { } next)
            {
                // Nothing is sent to a host the portal does not trust; the groups read so far are not an answer.
                OktaLog.Refused(_logger, Operation, "next_link_untrusted");
                return new IdpError(IdpErrorKind.Invalid, "next_link_untrusted", UntrustedNextLinkMessage(link));
            }

            uri = next;
        }
    }

    private static string UntrustedNextLinkMessage(string link) =>
        "Okta put the next page of the caller's groups on "
        + (Uri.TryCreate(link, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : "an address the portal could not read")
        + ", which is neither the org URL the portal is configured with nor the canonical host its connection test found, so the caller's groups could not all be read: an administrator can run Test connection or set the tenant's org URL to that host.";

    public async Task<IdpResult<IReadOnlyList<string>>> ListAdminRolesAsync(string callerId, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(callerId))
        {
            return InvalidId();
        }

        // listAssignedRolesForUser lists the roles assigned directly and those the user holds through a group.
        var reply = await SendAsync("list_roles", HttpMethod.Get, UserApi(callerId, "/roles"), cancellationToken);
        if (!reply.IsSuccess)
        {
            return reply.ToError(isRead: true);
        }

        if (!TryRead(reply, "list_roles", OktaJson.Default.ListOktaRole, out var roles) || roles is null)
        {
            return OktaErrorMapper.Unreadable(isRead: true);
        }

        return IdpResult<IReadOnlyList<string>>.Success([.. roles
            .Where(r => !string.Equals(r.Status, "INACTIVE", StringComparison.OrdinalIgnoreCase))
            .Select(r => r.Type ?? r.Label ?? "UNKNOWN_ROLE")]);
    }

    public async Task<IdpResult<PushChallenge>> StartPushAsync(string callerId, string factorId, ChallengeContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!IsValidId(callerId) || !IsValidId(factorId))
        {
            return InvalidId();
        }

        const string Operation = "start_push";
        var body = new OktaVerifyRequest { UseNumberMatchingChallenge = true };
        var reply = await SendAsync(
            Operation,
            HttpMethod.Post,
            UserApi(callerId, "/factors/" + Uri.EscapeDataString(factorId) + "/verify"),
            cancellationToken,
            JsonContent.Create(body, OktaJson.Default.OktaVerifyRequest),
            request => AddChallengeHeaders(request, context));
        if (!reply.IsSuccess)
        {
            return reply.ToError(isRead: false);
        }

        if (!TryRead(reply, Operation, OktaJson.Default.OktaVerifyResult, out var result) || result is null)
        {
            return OktaErrorMapper.Unreadable(isRead: false);
        }

        if (!string.Equals(result.FactorResult, "WAITING", StringComparison.Ordinal))
        {
            OktaLog.Refused(_logger, Operation, "unexpected_result");
            return new IdpError(IdpErrorKind.Invalid, "unexpected_result", "Okta did not start a push for this factor.");
        }

        // SECURITY: a push without number matching can be approved by a caller who taps whatever pops up
        // (MFA fatigue, or an attacker on the line timing the call); the portal never accepts one.
        var correctAnswer = result.Embedded?.Challenge?.Number;
        if (correctAnswer is not (> 0 and < 1000))
        {
            OktaLog.Refused(_logger, Operation, "no_number_challenge");

            // The plain push is already on the caller's phone: withdraw it so that nobody approves a prompt
            // the portal will never honour. Best effort, sent once, and only to a link that passes the guard.
            if (TrustedPollUri(callerId, result.Links?.Cancel?.Href) is { } cancel)
            {
                await SendAsync("cancel_push", HttpMethod.Delete, cancel, cancellationToken);
            }

            return new IdpError(
                IdpErrorKind.Invalid,
                "no_number_challenge",
                "The Okta org does not have number matching for this factor; the portal does not accept a plain push. Use another method, or ask your administrator to enable number matching.");
        }

        var pollReference = result.Links?.Poll?.Href;
        if (pollReference is null || TrustedPollUri(callerId, pollReference) is null)
        {
            OktaLog.Refused(_logger, Operation, "poll_reference_rejected");

            // The factor's links passed (ListFactorsAsync), yet this one names another host: the push is on the
            // caller's phone and will never be honoured, so it is withdrawn at the configured org URL, best effort.
            if (OnConfiguredOrg(callerId, result.Links?.Cancel?.Href ?? pollReference) is { } withdraw)
            {
                await SendAsync("cancel_push", HttpMethod.Delete, withdraw, cancellationToken);
            }

            return new IdpError(IdpErrorKind.Invalid, "poll_reference_rejected", "Okta's answer to the push could not be trusted; try another method.");
        }

        var expiresAt = result.ExpiresAt ?? _time.GetUtcNow() + DefaultPushLifetime;
        return IdpResult<PushChallenge>.Success(new PushChallenge(correctAnswer.Value, expiresAt, pollReference));
    }

    public async Task<IdpResult<PushState>> PollPushAsync(string callerId, string pollReference, CancellationToken cancellationToken = default)
    {
        const string Operation = "poll_push";
        if (!IsValidId(callerId))
        {
            return InvalidId();
        }

        // SECURITY: the reference comes back from the browser/store; sending the SSWS token to wherever it
        // points would hand the token to another host, or poll another user's push as if it were this one's.
        var uri = TrustedPollUri(callerId, pollReference);
        if (uri is null)
        {
            OktaLog.Refused(_logger, Operation, "poll_reference_rejected");
            return new IdpError(IdpErrorKind.Invalid, "poll_reference_rejected", "This push cannot be checked; start a new verification.");
        }

        var reply = await SendAsync(Operation, HttpMethod.Get, uri, cancellationToken);
        if (!reply.IsSuccess)
        {
            return reply.ToError(isRead: true);
        }

        if (!TryRead(reply, Operation, OktaJson.Default.OktaVerifyResult, out var result) || result is null)
        {
            return OktaErrorMapper.Unreadable(isRead: true);
        }

        return result.FactorResult switch
        {
            "WAITING" => IdpResult<PushState>.Success(PushState.Waiting),
            "SUCCESS" => IdpResult<PushState>.Success(PushState.Approved),
            "REJECTED" => IdpResult<PushState>.Success(PushState.Rejected),
            // A cancelled push was not the caller's doing: it simply ended unanswered.
            "TIMEOUT" or "CANCELLED" => IdpResult<PushState>.Success(PushState.TimedOut),
            _ => new IdpError(IdpErrorKind.Invalid, "unexpected_result", "Okta answered the push check in a way the portal does not know."),
        };
    }

    public async Task<IdpResult<TotpOutcome>> VerifyTotpAsync(string callerId, string factorId, string passCode, ChallengeContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!IsValidId(callerId) || !IsValidId(factorId))
        {
            return InvalidId();
        }

        var code = passCode?.Trim();
        if (code is null || code.Length is < 6 or > 8 || !code.All(char.IsAsciiDigit))
        {
            return new IdpError(IdpErrorKind.Invalid, "invalid_passcode_format", "A code is 6 to 8 digits.");
        }

        const string Operation = "verify_totp";
        var reply = await SendAsync(
            Operation,
            HttpMethod.Post,
            UserApi(callerId, "/factors/" + Uri.EscapeDataString(factorId) + "/verify"),
            cancellationToken,
            JsonContent.Create(new OktaVerifyRequest { PassCode = code }, OktaJson.Default.OktaVerifyRequest),
            request => AddChallengeHeaders(request, context));
        if (!reply.IsSuccess)
        {
            // Okta's docs leave open whether a replayed code is a result or an error; both mean the same.
            if (OktaErrorMapper.MentionsReplay(reply.Error))
            {
                return IdpResult<TotpOutcome>.Success(TotpOutcome.Replayed);
            }

            if (reply.TransportError is null && OktaErrorMapper.SafeCode(reply.Error?.ErrorCode) == "E0000068")
            {
                return IdpResult<TotpOutcome>.Success(TotpOutcome.Invalid);
            }

            return reply.ToError(isRead: false);
        }

        if (!TryRead(reply, Operation, OktaJson.Default.OktaVerifyResult, out var result) || result is null)
        {
            return OktaErrorMapper.Unreadable(isRead: false);
        }

        return result.FactorResult switch
        {
            "SUCCESS" => IdpResult<TotpOutcome>.Success(TotpOutcome.Accepted),
            "PASSCODE_REPLAYED" => IdpResult<TotpOutcome>.Success(TotpOutcome.Replayed),
            _ => IdpResult<TotpOutcome>.Success(TotpOutcome.Invalid),
        };
    }

    public async Task<IdpResult<PasswordResetOutcome>> ResetPasswordAsync(string callerId, PasswordResetKind kind, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(callerId))
        {
            return InvalidId();
        }

        switch (kind)
        {
            case PasswordResetKind.SendEmail:
                {
                    // The body ({} or anything else) carries nothing the portal needs.
                    var reply = await SendAsync("reset_password", HttpMethod.Post, UserApi(callerId, "/lifecycle/reset_password?sendEmail=true"), cancellationToken);
                    return reply.IsSuccess ? IdpResult<PasswordResetOutcome>.Success(new PasswordResetOutcome(kind, null)) : await WriteErrorAsync(reply, callerId, cancellationToken);
                }

            case PasswordResetKind.OneTimeLink:
                {
                    var reply = await SendAsync("reset_password", HttpMethod.Post, UserApi(callerId, "/lifecycle/reset_password?sendEmail=false"), cancellationToken);
                    if (!reply.IsSuccess)
                    {
                        return await WriteErrorAsync(reply, callerId, cancellationToken);
                    }

                    return TryRead(reply, "reset_password", OktaJson.Default.OktaResetPasswordResult, out var result) && !string.IsNullOrEmpty(result?.ResetPasswordUrl)
                        ? IdpResult<PasswordResetOutcome>.Success(new PasswordResetOutcome(kind, result.ResetPasswordUrl))
                        : OktaErrorMapper.Unreadable(isRead: false);
                }

            case PasswordResetKind.TemporaryPassword:
                {
                    var reply = await SendAsync("temp_password", HttpMethod.Post, UserApi(callerId, "/lifecycle/expire_password_with_temp_password?revokeSessions=true"), cancellationToken);
                    if (!reply.IsSuccess)
                    {
                        return await WriteErrorAsync(reply, callerId, cancellationToken);
                    }

                    return TryRead(reply, "temp_password", OktaJson.Default.OktaTempPasswordResult, out var result) && !string.IsNullOrEmpty(result?.TempPassword)
                        ? IdpResult<PasswordResetOutcome>.Success(new PasswordResetOutcome(kind, result.TempPassword))
                        : OktaErrorMapper.Unreadable(isRead: false);
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown password reset kind.");
        }
    }

    public async Task<IdpResult<Done>> RevokeSessionsAsync(string callerId, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(callerId))
        {
            return InvalidId();
        }

        var reply = await SendAsync("revoke_sessions", HttpMethod.Delete, UserApi(callerId, "/sessions?oauthTokens=true"), cancellationToken);
        return reply.IsSuccess ? Done() : reply.ToError(isRead: false);
    }

    public async Task<IdpResult<Done>> UnlockAsync(string callerId, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(callerId))
        {
            return InvalidId();
        }

        // Okta unlocks a LOCKED_OUT user and accepts an ACTIVE one too (clearing a block on unknown devices), so a
        // 200 is success either way; a status it refuses comes back as E0000038 and is named below.
        var reply = await SendAsync("unlock", HttpMethod.Post, UserApi(callerId, "/lifecycle/unlock"), cancellationToken);
        return reply.IsSuccess ? Done() : await WriteErrorAsync(reply, callerId, cancellationToken);
    }

    /// <summary>
    /// The error of a refused write. When Okta refused it for the account's lifecycle status (E0000038), the
    /// status is read once so that the agent is told which it is and what to do, rather than "not allowed".
    /// </summary>
    private async Task<IdpError> WriteErrorAsync(Reply reply, string callerId, CancellationToken cancellationToken)
    {
        var error = reply.ToError(isRead: false);
        if (reply.TransportError is not null || error.Code != "E0000038")
        {
            return error;
        }

        var user = await GetCallerAsync(callerId, cancellationToken);
        return user.IsSuccess ? error with { AgentMessage = OktaErrorMapper.StateMessage(user.Value.Status) } : error;
    }

    public async Task<IdpResult<FactorResetOutcome>> ResetFactorsAsync(string callerId, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(callerId))
        {
            return InvalidId();
        }

        // One lifecycle call removes every factor or none.
        var reply = await SendAsync("reset_factors", HttpMethod.Post, UserApi(callerId, "/lifecycle/reset_factors"), cancellationToken);
        return reply.IsSuccess ? IdpResult<FactorResetOutcome>.Success(FactorResetOutcome.Everything) : await WriteErrorAsync(reply, callerId, cancellationToken);
    }

    public async Task<IdpResult<TemporaryAccess>> IssueTemporaryAccessAsync(string callerId, TimeSpan lifetime, bool usableOnce, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(callerId))
        {
            return InvalidId();
        }

        var authenticatorId = _settings?.TacAuthenticatorId;
        if (string.IsNullOrEmpty(authenticatorId))
        {
            var found = await FindTacAuthenticatorAsync(cancellationToken);
            if (!found.IsSuccess)
            {
                return found.Error;
            }

            authenticatorId = found.Value;
        }

        var ttl = TacTtlMinutes(lifetime);
        var request = new OktaTacRequest
        {
            AuthenticatorId = authenticatorId,
            Profile = new OktaTacRequestProfile { Ttl = ttl.ToString(CultureInfo.InvariantCulture), MultiUse = !usableOnce },
        };
        const string Operation = "issue_tac";
        var reply = await SendAsync(
            Operation,
            HttpMethod.Post,
            UserApi(callerId, "/authenticator-enrollments/tac"),
            cancellationToken,
            JsonContent.Create(request, OktaJson.Default.OktaTacRequest));
        if (!reply.IsSuccess)
        {
            return reply.TransportError is null ? TacRefused(reply) ?? await WriteErrorAsync(reply, callerId, cancellationToken) : reply.ToError(isRead: false);
        }

        if (!TryRead(reply, Operation, OktaJson.Default.OktaTacEnrollment, out var enrollment) || string.IsNullOrEmpty(enrollment?.Profile?.Tac))
        {
            return OktaErrorMapper.Unreadable(isRead: false);
        }

        var profile = enrollment.Profile;
        var expiresAt = profile.ExpiresAt ?? _time.GetUtcNow().AddMinutes(ttl);
        return IdpResult<TemporaryAccess>.Success(new TemporaryAccess(profile.Tac, expiresAt, profile.MultiUse is { } multiUse ? !multiUse : usableOnce));
    }

    /// <summary>The id of the org's ACTIVE temporary access code authenticator, or why there is none.</summary>
    private async Task<IdpResult<string>> FindTacAuthenticatorAsync(CancellationToken cancellationToken)
    {
        var list = await SendAsync("list_authenticators", HttpMethod.Get, Api("authenticators"), cancellationToken);
        if (!list.IsSuccess)
        {
            if (list.TransportError is null && list.Status == 404)
            {
                // The Authenticators API exists only on Identity Engine: a Classic Engine org answers 404.
                return new IdpError(IdpErrorKind.Invalid, "tac_classic_engine", TacClassicMessage);
            }

            if (list.TransportError is null && list.Status == 403)
            {
                return new IdpError(IdpErrorKind.AccessDenied, "missing_scope", "The portal's Okta credential may not list authenticators (scope okta.authenticators.read). Grant that scope, or set the tenant's TAC authenticator id (Idp:Okta:TacAuthenticatorId) so that no listing is needed.");
            }

            return list.ToError(isRead: true);
        }

        if (!TryRead(list, "list_authenticators", OktaJson.Default.ListOktaAuthenticator, out var authenticators) || authenticators is null)
        {
            return OktaErrorMapper.Unreadable(isRead: true);
        }

        var tac = authenticators.Find(a => string.Equals(a.Key, "tac", StringComparison.Ordinal));
        if (tac is null || string.IsNullOrEmpty(tac.Id) || !string.Equals(tac.Status, "ACTIVE", StringComparison.Ordinal))
        {
            return new IdpError(IdpErrorKind.Invalid, "tac_not_enabled", TacNotEnabledMessage);
        }

        return IdpResult<string>.Success(tac.Id);
    }

    internal const string TacClassicMessage = "Temporary access codes need Okta Identity Engine; this Okta org runs Classic Engine. Use a password reset instead.";
    internal const string TacNotEnabledMessage = "Temporary access codes are not enabled in this Okta org: an Okta administrator must activate the Temporary Access Code authenticator.";
    internal const string TacMissingRightMessage = "The portal's Okta credential may not issue temporary access codes: it needs the okta.users.manage scope and an admin role with the okta.users.credentials.manageTemporaryAccessCode permission.";

    /// <summary>The TAC-specific reading of a refused enrollment; null when the general mapping applies.</summary>
    private static IdpError? TacRefused(Reply reply)
    {
        var code = OktaErrorMapper.SafeCode(reply.Error?.ErrorCode);
        return reply.Status switch
        {
            // The user was just verified, so a 404 here is the endpoint: no TAC on this org (Classic, or not available).
            404 => new IdpError(IdpErrorKind.Invalid, "tac_classic_engine", TacClassicMessage),
            403 when code is null or "E0000006" => new IdpError(IdpErrorKind.AccessDenied, code ?? "http_403", TacMissingRightMessage),
            // The authenticator named in the request is not an ACTIVE tac one: deactivated since, or the tenant's
            // configured id (which skips the listing) is wrong.
            400 when code == "E0000001" && OktaErrorMapper.Mentions(reply.Error, "authenticatorId") => new IdpError(IdpErrorKind.Invalid, "tac_not_enabled", TacNotEnabledMessage + " If the tenant names the authenticator (Idp:Okta:TacAuthenticatorId), check that it is the Temporary Access Code authenticator's id."),
            _ => null,
        };
    }

    /// <summary>Okta accepts 10 to 14400 minutes; a lifetime outside that range is brought into it.</summary>
    internal static int TacTtlMinutes(TimeSpan lifetime)
    {
        var minutes = Math.Ceiling(lifetime.TotalMinutes);
        return (int)Math.Clamp(double.IsNaN(minutes) ? 10 : minutes, 10, 14400);
    }

    /// <summary>
    /// The poll URI when <paramref name="reference"/> is one Okta could have given for this caller on this
    /// org: the scheme, host and port of the configured org URL, or of the org's canonical URL when the onboarding
    /// check found one (<see cref="OktaConnectionSettings.CanonicalBaseUrl"/>: a real org writes its canonical host
    /// into links), and exactly <c>/api/v1/users/{callerId}/factors/{factorId}/transactions/{transactionId}</c>.
    /// Null otherwise.
    /// </summary>
    internal Uri? TrustedPollUri(string callerId, string? reference) => PollUri(callerId, reference, anyOrigin: false);

    /// <summary>
    /// The same path as an untrusted poll link, on the configured org URL: where a push whose link names another host
    /// is withdrawn. Okta serves its API on every host of the org, so nothing is sent to the host the portal does not
    /// trust, and the token goes only where it always goes.
    /// </summary>
    internal Uri? OnConfiguredOrg(string callerId, string? reference) =>
        PollUri(callerId, reference, anyOrigin: true) is { } uri ? new Uri(_baseUrl, uri.AbsolutePath) : null;

    /// <summary>Exact host (no suffix or wildcard match), the configured URL's scheme (https, or http for a loopback emulator) and the port.</summary>
    private bool IsTrustedOrigin(Uri uri) => SameOrigin(uri, _baseUrl) || (_canonicalBaseUrl is { } canonical && SameOrigin(uri, canonical));

    private static bool SameOrigin(Uri uri, Uri origin) =>
        string.Equals(uri.Scheme, origin.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.IdnHost, origin.IdnHost, StringComparison.OrdinalIgnoreCase)
        && uri.Port == origin.Port;

    private Uri? PollUri(string callerId, string? reference, bool anyOrigin)
    {
        if (string.IsNullOrEmpty(reference) || reference.Length > MaxPollReferenceLength || !IsValidId(callerId))
        {
            return null;
        }

        // The raw text is checked too: Uri normalises dot segments and some escapes away, and a server
        // that decodes %2F or a backslash could route the request somewhere the normalised path does not say.
        if (reference.Contains("..", StringComparison.Ordinal) || reference.Contains('%', StringComparison.Ordinal) || reference.Contains('\\', StringComparison.Ordinal)
            || reference.Any(char.IsControl) || reference.Any(char.IsWhiteSpace))
        {
            return null;
        }

        if (!Uri.TryCreate(reference, UriKind.Absolute, out var uri)
            || !(anyOrigin || IsTrustedOrigin(uri))
            || uri.UserInfo.Length > 0
            || uri.Query.Length > 0
            || uri.Fragment.Length > 0)
        {
            return null;
        }

        // Okta's API lives at the root of either host; the path is checked against the configured URL's.
        var prefix = new Uri(_baseUrl, "api/v1/users/" + callerId + "/factors/").AbsolutePath;
        var path = uri.AbsolutePath;
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = path[prefix.Length..].Split('/');
        return rest is [var factorId, "transactions", var transactionId] && IsSegment(factorId) && IsSegment(transactionId) ? uri : null;

        static bool IsSegment(string segment) =>
            segment.Length is > 0 and <= MaxIdLength && segment.Any(c => c != '.') && segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
    }

    /// <summary>Okta ids are short alphanumeric strings; anything else is refused before it reaches a URL path.</summary>
    internal static bool IsValidId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxIdLength && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static IdpResult<Done> Done() => IdpResult<Done>.Success(default);

    private static IdpError InvalidId() =>
        new(IdpErrorKind.Invalid, "invalid_id", "The caller or factor reference is not valid.");

    private Uri Api(string relative) => new(_baseUrl, "api/v1/" + relative);

    private Uri UserApi(string userId, string rest) => Api("users/" + Uri.EscapeDataString(userId) + rest);

    private static void AddChallengeHeaders(HttpRequestMessage request, ChallengeContext context)
    {
        // Okta requires the end user's User-Agent on verify and uses it (and the address) in its risk checks
        // and in what the caller's phone shows. Control characters would break the header, so they are dropped.
        var userAgent = new string([.. (context.UserAgent ?? "").Where(c => !char.IsControl(c)).Take(MaxUserAgentLength)]).Trim();
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent.Length == 0 ? DefaultUserAgent : userAgent);
        if (IPAddress.TryParse(context.ClientAddress, out var address))
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", address.ToString());
        }
    }

    private IdpResult<CallerProfile> ToProfile(OktaUser user, string operation)
    {
        if (string.IsNullOrEmpty(user.Id) || string.IsNullOrEmpty(user.Profile?.Login))
        {
            OktaLog.Unreadable(_logger, operation, 200);
            return OktaErrorMapper.Unreadable(isRead: true);
        }

        var profile = user.Profile;
        return IdpResult<CallerProfile>.Success(new CallerProfile(user.Id, profile.Login, profile.Email, OktaFactorRules.ToStatus(user.Status))
        {
            Details = new CallerDetails
            {
                DisplayName = Text(profile.DisplayName) ?? Text(string.Join(' ', new[] { profile.FirstName, profile.LastName }.Where(n => !string.IsNullOrWhiteSpace(n)))),
                Title = Text(profile.Title),
                Department = Text(profile.Department),
                Manager = Text(profile.Manager),
                WorkPhone = Text(profile.PrimaryPhone),
                StatusChangedAt = user.StatusChanged,
                LastSignInAt = user.LastLogin,
                PasswordChangedAt = user.PasswordChanged,
            },
        });
    }

    private static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private bool TryRead<T>(Reply reply, string operation, JsonTypeInfo<T> typeInfo, out T? value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(reply.Body))
        {
            return false;
        }

        try
        {
            value = JsonSerializer.Deserialize(reply.Body, typeInfo);
            return value is not null;
        }
        catch (JsonException)
        {
            OktaLog.Unreadable(_logger, operation, reply.Status);
            return false;
        }
    }

    private async Task<Reply> SendAsync(
        string operation,
        HttpMethod method,
        Uri uri,
        CancellationToken cancellationToken,
        HttpContent? content = null,
        Action<HttpRequestMessage>? decorate = null)
    {
        var isRead = method == HttpMethod.Get;
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                using var request = new HttpRequestMessage(method, uri);
                if (await _credential.AuthorizeAsync(request, cancellationToken) is { } noCredential)
                {
                    return Reply.Failed(noCredential);
                }

                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                request.Content = content;
                decorate?.Invoke(request);

                HttpResponseMessage? response = null;
                string body;
                try
                {
                    response = await _http.SendAsync(request, cancellationToken);
                    body = await response.Content.ReadAsStringAsync(cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && OktaErrorMapper.FromException(ex, isRead) is { } failure)
                {
                    response?.Dispose();
                    OktaLog.NoAnswer(_logger, operation, failure.Code);
                    return Reply.Failed(failure);
                }

                using (response)
                {
                    var status = (int)response.StatusCode;
                    if (response.IsSuccessStatusCode)
                    {
                        OktaLog.Answered(_logger, operation, status);
                        return new Reply(status, body, null, null, null) { NextLink = NextLink(response) };
                    }

                    var error = ReadError(body);
                    OktaLog.Failed(_logger, operation, status, OktaErrorMapper.SafeCode(error?.ErrorCode) ?? "none", OktaErrorMapper.SafeCode(error?.ErrorId) ?? "none");
                    if (status == 401 && attempt == 0 && _credential.PrepareRetry(response))
                    {
                        // An expired or revoked access token, or a DPoP nonce asked for: nothing happened at Okta.
                        continue;
                    }

                    if (status == 403 && response.Headers.WwwAuthenticate.Any(h => h.ToString().Contains("insufficient_scope", StringComparison.Ordinal)))
                    {
                        var scope = OktaScopes.For(method, uri.AbsolutePath);
                        return Reply.Failed(new IdpError(IdpErrorKind.AccessDenied, "missing_scope",
                            $"The portal's Okta service app lacks the scope {scope}: grant it to the app in Okta (Okta API Scopes tab); nothing was changed."));
                    }

                    TimeSpan? retryAfter = null;
                    if (status == 429)
                    {
                        retryAfter = OktaErrorMapper.RetryAfter(response.Headers, _time.GetUtcNow());

                        // Only a read is repeated, and only once: a write may already have taken effect.
                        if (isRead && attempt == 0 && retryAfter <= MaxRateLimitWait)
                        {
                            OktaLog.RateLimitedRetry(_logger, operation, (long)retryAfter.Value.TotalMilliseconds);
                            await Task.Delay(retryAfter.Value, _time, cancellationToken);
                            continue;
                        }
                    }

                    return new Reply(status, body, error, retryAfter, null);
                }
            }
        }
        finally
        {
            content?.Dispose();
        }
    }

    private static OktaErrorBody? ReadError(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(body, OktaJson.Default.OktaErrorBody);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>One HTTP exchange: Okta's answer, or the transport failure that stood in for one.</summary>
    private sealed record Reply(int Status, string Body, OktaErrorBody? Error, TimeSpan? RetryAfter, IdpError? TransportError)
    {
        public bool IsSuccess => TransportError is null && Status is >= 200 and < 300;

        /// <summary>The <c>Link: &lt;…&gt;; rel="next"</c> of a listing, as Okta sent it (not yet checked).</summary>
        public string? NextLink { get; init; }

        public static Reply Failed(IdpError failure) => new(0, "", null, null, failure);

        public IdpError ToError(bool isRead) => TransportError ?? OktaErrorMapper.FromResponse(Status, Error, isRead, RetryAfter);
    }
}
