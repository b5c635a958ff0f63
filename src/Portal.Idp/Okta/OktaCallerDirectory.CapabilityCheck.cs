using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Idp.Okta;

/// <summary>
/// The onboarding check of an Okta connection ("Test connection", docs/configuration.md "Testing the connection"):
/// the org's canonical URL and engine, one harmless read per scope family, the service app's scopes against what
/// each operation needs, and whether temporary access codes can be issued. Nothing is changed at Okta, and nothing
/// Okta answers about a person is kept: the one user id read is used only to read that user's roles.
/// </summary>
internal sealed partial class OktaCallerDirectory : IIdpCapabilityCheck
{
    internal const string DownReason = "Okta did not answer the connection check; the action is offered and Okta decides when it is used.";
    internal const string CredentialRefusedReason = "Okta refused the portal's credential, so nothing can be done until it is fixed.";
    internal const string NoUserReadReason = "The portal's credential may not read users (scope okta.users.read), which every action needs first.";
    internal const string SswsWriteReason = "An SSWS token acts with its administrator's role, which cannot be checked without changing an account: Okta decides when the action is used.";

    private static readonly IdpOperation[] ManageOperations =
        [IdpOperation.VerifyFactors, IdpOperation.ResetPassword, IdpOperation.RevokeSessions, IdpOperation.Unlock, IdpOperation.ResetFactors];

    public async Task<IdpCapabilityReport> CheckAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await RunCheckAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Never throws (IIdpCapabilityCheck): an unexpected failure is a report that knows nothing.
            OktaLog.Refused(_logger, "capability_check", ex.GetType().Name);
            return Report(null, [new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Unknown, "The connection check failed unexpectedly; try again.")], _ => (CapabilityState.Unknown, DownReason));
        }
    }

    private async Task<IdpCapabilityReport> RunCheckAsync(CancellationToken ct)
    {
        var checks = new List<CapabilityCheck>();
        var (canonical, engine) = await ReadOrganizationAsync(ct);
        checks.Add(canonical is null
            ? new CapabilityCheck(IdpCapabilityReport.CanonicalHostCheck, CapabilityState.Unknown, "Okta's organization metadata (/.well-known/okta-organization) could not be read; only the configured org URL is trusted.")
            : new CapabilityCheck(IdpCapabilityReport.CanonicalHostCheck, CapabilityState.Available,
                string.Equals(canonical.Host, _baseUrl.Host, StringComparison.OrdinalIgnoreCase)
                    ? "The org's canonical host is the configured one: " + canonical.Host + "."
                    : "The org's canonical host is " + canonical.Host + " (configured: " + _baseUrl.Host + "); push links on either are trusted."));
        checks.Add(new CapabilityCheck("engine", engine is null ? CapabilityState.Unknown : CapabilityState.Available, engine switch
        {
            "idx" => "The org runs Okta Identity Engine.",
            "v1" => "The org runs Okta Classic Engine.",
            _ => "The org's engine could not be read.",
        }));

        // One harmless read per scope family: users (okta.users.read).
        var users = await SendAsync("check_users", HttpMethod.Get, Api("users?limit=1"), ct);
        if (users.TransportError is { Kind: IdpErrorKind.Unauthorized or IdpErrorKind.AccessDenied } refused && refused.Code != "missing_scope")
        {
            // The service app's token request was refused (invalid_client, invalid_scope, DPoP): Okta's reason, never a secret.
            checks.Add(new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Unavailable, refused.AgentMessage + " (" + refused.Code + ")"));
            return Report(canonical, checks, _ => (CapabilityState.Unavailable, CredentialRefusedReason));
        }

        if (!users.IsSuccess && users.TransportError is null && users.Status == 401)
        {
            checks.Add(new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Unavailable,
                _credential is SswsCredential
                    ? "Okta refused the API token (401): it was revoked, expired after 30 days unused, or its administrator was deactivated."
                    : "Okta refused the service app's access token (401)."));
            return Report(canonical, checks, _ => (CapabilityState.Unavailable, CredentialRefusedReason));
        }

        var usersDenied = users.TransportError is { Code: "missing_scope" } || (users.TransportError is null && users.Status == 403);
        if (!users.IsSuccess && !usersDenied)
        {
            checks.Add(new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Unknown, "Okta did not answer the check (" + users.ToError(isRead: true).Code + ")."));
            return Report(canonical, checks, _ => (CapabilityState.Unknown, DownReason));
        }

        checks.Add(new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Available,
            _credential is SswsCredential ? "Okta accepted the SSWS API token." : "Okta issued the service app an access token."));
        checks.Add(new CapabilityCheck("scope:" + OktaScopes.UsersRead, usersDenied ? CapabilityState.Unavailable : CapabilityState.Available,
            usersDenied ? "Listing users was refused: grant okta.users.read (Help Desk or Read-only Administrator)." : "Listing users works."));

        // Roles (okta.roles.read), read for the one user listed: nothing of theirs is kept.
        var roles = await CheckRolesAsync(usersDenied ? null : users, ct);
        checks.Add(roles);

        // Temporary access codes: Identity Engine and an ACTIVE tac authenticator (okta.authenticators.read to list it).
        var tac = await CheckTacAsync(engine, ct);
        checks.Add(tac);

        // The System Log, for reconciliation (okta.logs.read, and an admin role that may view it): one harmless read.
        var logs = _readsAuditLog ? await CheckSystemLogAsync(ct) : null;
        if (logs is not null)
        {
            checks.Add(logs);
        }

        var serviceApp = _settings?.ServiceApp;
        if (serviceApp is not null)
        {
            foreach (var scope in new[] { OktaScopes.UsersManage, OktaScopes.AuthenticatorsRead })
            {
                var granted = serviceApp.Scopes.Contains(scope, StringComparer.Ordinal);
                checks.Add(new CapabilityCheck("scope:" + scope, granted ? CapabilityState.Available : CapabilityState.Unavailable,
                    granted ? "The service app is granted " + scope + "." : "The service app does not request " + scope + " (Idp:Okta:ServiceApp:Scopes) or is not granted it."));
            }
        }

        (CapabilityState State, string? Reason) manage = serviceApp is null
            ? (CapabilityState.Unknown, SswsWriteReason)
            : serviceApp.Scopes.Contains(OktaScopes.UsersManage, StringComparer.Ordinal)
                ? (CapabilityState.Available, null)
                : (CapabilityState.Unavailable, "The portal's Okta service app lacks the scope okta.users.manage: grant it in Okta (Okta API Scopes tab).");

        return Report(canonical, checks, operation => operation switch
        {
            _ when usersDenied => (CapabilityState.Unavailable, NoUserReadReason),
            IdpOperation.ReadUsers => (CapabilityState.Available, null),
            IdpOperation.ReadRoles => (roles.State, roles.State == CapabilityState.Available ? null : roles.Detail),
            IdpOperation.ReadAuditLog => logs is null
                ? (CapabilityState.Unknown, "Reconciliation is off for this tenant, so the System Log is not read.")
                : (logs.State, logs.State == CapabilityState.Available ? null : logs.Detail),
            IdpOperation.IssueTemporaryAccess => tac.State == CapabilityState.Unavailable || manage.State == CapabilityState.Unavailable
                ? (CapabilityState.Unavailable, tac.State == CapabilityState.Unavailable ? tac.Detail : manage.Reason)
                : tac.State == CapabilityState.Available && manage.State == CapabilityState.Available
                    ? (CapabilityState.Available, null)
                    : (CapabilityState.Unknown, tac.State == CapabilityState.Unknown ? tac.Detail : manage.Reason),
            _ => manage,
        });
    }

    private async Task<CapabilityCheck> CheckSystemLogAsync(CancellationToken ct)
    {
        const string Name = "scope:" + OktaScopes.LogsRead;
        var reply = await SendAsync("check_logs", HttpMethod.Get, Api("logs?limit=1"), ct);
        if (reply.IsSuccess)
        {
            return new CapabilityCheck(Name, CapabilityState.Available, "Reading the System Log works (reconciliation).");
        }

        return reply.TransportError is { Code: "missing_scope" } || (reply.TransportError is null && reply.Status == 403)
            ? new CapabilityCheck(Name, CapabilityState.Unavailable, LogsMissingRightMessage)
            : new CapabilityCheck(Name, CapabilityState.Unknown, "Okta did not answer the System Log check (" + reply.ToError(isRead: true).Code + ").");
    }

    private async Task<(Uri? Canonical, string? Engine)> ReadOrganizationAsync(CancellationToken ct)
    {
        // Public metadata: sent without the credential.
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_baseUrl, ".well-known/okta-organization"));
            request.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await _http.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                OktaLog.Failed(_logger, "org_metadata", (int)response.StatusCode, "none", "none");
                return (null, null);
            }

            OktaLog.Answered(_logger, "org_metadata", (int)response.StatusCode);
            var json = JsonNode.Parse(body) as JsonObject;
            var href = json?["_links"]?["organization"]?["href"]?.GetValue<string>();
            var engine = json?["pipeline"]?.GetValue<string>() is "idx" or "v1" ? json["pipeline"]!.GetValue<string>() : null;
            return (Uri.TryCreate(href, UriKind.Absolute, out var uri) ? CanonicalOrigin(uri, _baseUrl) : null, engine);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && (OktaErrorMapper.FromException(ex, isRead: true) is not null || ex is JsonException or InvalidOperationException or FormatException))
        {
            OktaLog.NoAnswer(_logger, "org_metadata", ex.GetType().Name);
            return (null, null);
        }
    }

    private async Task<CapabilityCheck> CheckRolesAsync(Reply? users, CancellationToken ct)
    {
        const string Name = "scope:" + OktaScopes.RolesRead;
        string? userId = null;
        if (users is not null && TryRead(users, "check_users", OktaJson.Default.ListOktaUser, out var list) && list is [var first, ..] && IsValidId(first.Id))
        {
            userId = first.Id;
        }

        if (userId is null)
        {
            return new CapabilityCheck(Name, CapabilityState.Unknown, "No user could be listed to read admin roles of; not checked.");
        }

        var reply = await SendAsync("check_roles", HttpMethod.Get, UserApi(userId, "/roles"), ct);
        if (reply.IsSuccess)
        {
            return new CapabilityCheck(Name, CapabilityState.Available, "Reading admin roles works: privileged callers are recognised.");
        }

        return reply.TransportError is { Code: "missing_scope" } || (reply.TransportError is null && reply.Status == 403)
            ? new CapabilityCheck(Name, CapabilityState.Unavailable, "Reading admin roles was refused (okta.roles.read, Read-only Administrator): every caller counts as privileged and each action needs a second agent's approval.")
            : new CapabilityCheck(Name, CapabilityState.Unknown, "Okta did not answer the admin-role read (" + reply.ToError(isRead: true).Code + ").");
    }

    private async Task<CapabilityCheck> CheckTacAsync(string? engine, CancellationToken ct)
    {
        const string Name = "tac";
        if (engine == "v1")
        {
            return new CapabilityCheck(Name, CapabilityState.Unavailable, TacClassicMessage);
        }

        var configuredId = _settings?.TacAuthenticatorId;
        var reply = await SendAsync("check_authenticators", HttpMethod.Get, Api("authenticators"), ct);
        if (reply.TransportError is null && reply.Status == 404)
        {
            return new CapabilityCheck(Name, CapabilityState.Unavailable, TacClassicMessage);
        }

        if (reply.TransportError is { Code: "missing_scope" } || (reply.TransportError is null && reply.Status == 403))
        {
            return string.IsNullOrEmpty(configuredId)
                ? new CapabilityCheck(Name, CapabilityState.Unavailable, "The portal's credential may not list authenticators (okta.authenticators.read) and no TAC authenticator id is configured (Idp:Okta:TacAuthenticatorId).")
                : new CapabilityCheck(Name, CapabilityState.Unknown, "The authenticators could not be read (okta.authenticators.read); the configured TAC authenticator id is used as it is.");
        }

        if (!reply.IsSuccess || !TryRead(reply, "check_authenticators", OktaJson.Default.ListOktaAuthenticator, out var authenticators) || authenticators is null)
        {
            return new CapabilityCheck(Name, CapabilityState.Unknown, "Okta did not answer the authenticator listing.");
        }

        var tac = authenticators.Find(a => string.IsNullOrEmpty(configuredId)
            ? string.Equals(a.Key, "tac", StringComparison.Ordinal)
            : string.Equals(a.Id, configuredId, StringComparison.Ordinal));
        return tac is not null && string.Equals(tac.Status, "ACTIVE", StringComparison.Ordinal)
            ? new CapabilityCheck(Name, CapabilityState.Available, "The Temporary Access Code authenticator is active. Issuing also needs an admin role with okta.users.credentials.manageTemporaryAccessCode, which Okta checks when a code is issued.")
            : new CapabilityCheck(Name, CapabilityState.Unavailable, TacNotEnabledMessage);
    }

    private IdpCapabilityReport Report(Uri? canonical, List<CapabilityCheck> checks, Func<IdpOperation, (CapabilityState State, string? Reason)> operation) =>
        new(IdpKind.Okta, _time.GetUtcNow(), canonical, checks, [.. Enum.GetValues<IdpOperation>().Select(o =>
        {
            var (state, reason) = operation(o);
            return new OperationCapability(o, state, state == CapabilityState.Available ? null : reason);
        })]);

    /// <summary>
    /// The origin (scheme, host, port) of an org URL Okta named as canonical, or null when it cannot be trusted for
    /// poll links: not absolute, another scheme than the configured URL's (https; http only for a loopback emulator),
    /// credentials, a query or a fragment.
    /// </summary>
    internal static Uri? CanonicalOrigin(Uri? canonical, Uri configured)
    {
        if (canonical is null || !canonical.IsAbsoluteUri
            || !string.Equals(canonical.Scheme, configured.Scheme, StringComparison.OrdinalIgnoreCase)
            || (canonical.Scheme == Uri.UriSchemeHttp && !canonical.IsLoopback)
            || canonical.UserInfo.Length > 0 || canonical.Query.Length > 0 || canonical.Fragment.Length > 0
            || canonical.AbsolutePath != "/")
        {
            return null;
        }

        return new Uri(canonical.GetLeftPart(UriPartial.Authority) + "/");
    }
}
