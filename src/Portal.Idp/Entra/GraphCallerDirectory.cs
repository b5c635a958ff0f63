using Microsoft.Extensions.Logging;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;

namespace Portal.Idp.Entra;

/// <summary>
/// <see cref="ICallerDirectory"/> over Microsoft Graph v1.0 with an app-only token. Entra offers no API that
/// challenges a user's authenticator, so verification goes through a step-up sign-in (<c>oidc.stepup</c>);
/// this adapter says who can be stepped up and performs the remediation actions.
/// </summary>
internal sealed partial class GraphCallerDirectory(
    GraphServiceClient graph,
    TimeProvider time,
    ILogger<GraphCallerDirectory> logger,
    Func<CancellationToken, Task<string>>? appToken = null,
    string? portalAppId = null,
    bool readsAuditLog = false) : ICallerDirectory
{
    internal const int MaxSearchLength = 256;
    internal const int MinTapMinutes = 10;
    internal const int MaxTapMinutes = 43200;
    internal const string NoChallengeMessage = "Not supported for Entra (use step-up).";
    internal const string NoEmailResetMessage = "Entra has no e-mailed or link reset; use a temporary password or a Temporary Access Pass.";
    internal const string NoUnlockMessage = "Entra locks accounts by smart lockout, which clears itself; revoke sessions or issue a TAP instead.";

    internal const string SyncedUserMessage = "This account is synced from on-premises Active Directory: its password can only be reset there (or through Entra password writeback, which the portal does not use). Issue a Temporary Access Pass or sign the caller out everywhere instead.";
    /// <summary>
    /// The most pages of one Graph listing the portal reads: a caller's active roles, eligible roles and groups (999 a
    /// page, so nearly 10,000 groups), and the directory audits of one reconciliation poll. More than any real user has,
    /// and a bounded number of requests per check; past it a privilege check is an error (privilege unknown, which
    /// needs a second agent's approval), never the pages read so far.
    /// </summary>
    internal const int MaxPages = 10;

    // The caller card's fields (docs/security-decisions.md "Caller context, live and never stored") come with the
    // look-up itself: the manager by $expand, so that the card costs no extra round trip. businessPhones gives the work
    // phone on file, the number an agent calls back on (for the screen only, never stored or logged). The last sign-in
    // (signInActivity) is not asked for: it needs AuditLog.Read.All and Entra ID P1, and its absence would fail the read.
    private static readonly string[] UserFields = ["id", "userPrincipalName", "mail", "accountEnabled", "onPremisesSyncEnabled", "displayName", "jobTitle", "department", "lastPasswordChangeDateTime", "businessPhones"];

    private static readonly string[] UserExpand = ["manager($select=displayName)"];

    public async Task<IdpResult<CallerProfile>> FindCallerAsync(string loginOrEmail, CancellationToken cancellationToken = default)
    {
        var value = loginOrEmail?.Trim();
        if (string.IsNullOrEmpty(value) || value.Length > MaxSearchLength || value.Any(char.IsControl) || !value.Contains('@', StringComparison.Ordinal))
        {
            return new IdpError(IdpErrorKind.Invalid, "invalid_search", "Enter the caller's exact user principal name or e-mail address.");
        }

        return await RunAsync("find_caller", isRead: true, async ct =>
        {
            var page = await graph.Users.GetAsync(
                r =>
                {
                    r.QueryParameters.Filter = ODataFilter.UpnOrMail(value);
                    r.QueryParameters.Select = UserFields;
                    r.QueryParameters.Expand = UserExpand;
                    r.QueryParameters.Top = 5;
                },
                ct);
            var users = page?.Value ?? [];
            var user = users.Count switch
            {
                0 => null,
                1 => users[0],
                // UPNs are unique, so an exact UPN settles a search that also matched someone's mail address.
                _ => users.Where(u => string.Equals(u.UserPrincipalName, value, StringComparison.OrdinalIgnoreCase)).ToList() is [var exact] ? exact : null,
            };
            if (user is null)
            {
                return users.Count == 0
                    ? new IdpError(IdpErrorKind.NotFound, "not_found", "No Entra user has that user principal name or e-mail address.")
                    : new IdpError(IdpErrorKind.NotFound, "ambiguous", "More than one Entra user matches; enter the caller's exact user principal name.");
            }

            return ToProfile(user);
        }, cancellationToken);
    }

    public async Task<IdpResult<CallerProfile>> GetCallerAsync(string callerId, CancellationToken cancellationToken = default)
    {
        if (InvalidId(callerId) is { } invalid)
        {
            return invalid;
        }

        return await RunAsync("get_caller", isRead: true, async ct =>
        {
            var user = await graph.Users[callerId].GetAsync(
                r =>
                {
                    r.QueryParameters.Select = UserFields;
                    r.QueryParameters.Expand = UserExpand;
                },
                ct);
            return user is null ? Unreadable(isRead: true) : ToProfile(user);
        }, cancellationToken);
    }

    /// <summary>
    /// The caller's manager (<c>GET /users/{id}/manager</c>), read with the same fields as a caller. Graph answers 404
    /// (Request_ResourceNotFound) when the user has no manager, and the manager may be an organisational contact rather
    /// than a user: both are <c>no_manager</c>, since only a user of the directory can approve. Every other failure
    /// maps as any read does, so that an outage is never told to the agent as "no manager".
    /// </summary>
    /// <summary>
    /// Entra ID gives an app no identity-verification result it can read: its account recovery with Verified ID and
    /// Face Check is Microsoft's own self-service flow, and no token claim, authentication strength or API reports its
    /// outcome to another app (docs/recovery.md). Start-up refuses the setting for an Entra tenant; this is the answer
    /// should anything ask.
    /// </summary>
    public Task<IdpResult<IdentityVerificationResult>> FindIdentityVerificationAsync(string callerId, DateTimeOffset since, CancellationToken cancellationToken = default) =>
        Task.FromResult<IdpResult<IdentityVerificationResult>>(new IdpError(IdpErrorKind.Invalid, "idv_not_supported",
            "Microsoft Entra ID does not report an identity verification to other apps: verify the caller another way."));

    public async Task<IdpResult<CallerProfile>> GetManagerAsync(string callerId, CancellationToken cancellationToken = default)
    {
        if (InvalidId(callerId) is { } invalid)
        {
            return invalid;
        }

        var result = await RunAsync("get_manager", isRead: true, async ct =>
        {
            var manager = await graph.Users[callerId].Manager.GetAsync(r => r.QueryParameters.Select = UserFields, ct);
            return manager is User user ? ToProfile(user) : NoManager();
        }, cancellationToken);
        return result.Error is { Kind: IdpErrorKind.NotFound } ? NoManager() : result;
    }

    internal const string NoManagerMessage = "Entra names no manager for this caller, or names one who is not a user of the directory: manager approval cannot be used.";

    private static IdpError NoManager() => new(IdpErrorKind.NotFound, "no_manager", NoManagerMessage);

    public async Task<IdpResult<IReadOnlyList<CallerFactor>>> ListFactorsAsync(string callerId, CancellationToken cancellationToken = default)
    {
        if (InvalidId(callerId) is { } invalid)
        {
            return invalid;
        }

        return await RunAsync("list_factors", isRead: true, async ct =>
        {
            var methods = await graph.Users[callerId].Authentication.Methods.GetAsync(cancellationToken: ct);
            return IdpResult<IReadOnlyList<CallerFactor>>.Success(EntraMethodRules.ToFactors(methods?.Value ?? []));
        }, cancellationToken);
    }

    /// <summary>
    /// Why the caller is privileged in Entra, one entry per reason: a directory role assigned (active) or PIM-eligible,
    /// at any scope (the directory, an administrative unit) and built-in or custom, and every role-assignable group
    /// they belong to, nested or not (such a group exists to hold roles, active or eligible). An empty list means
    /// no role at all; an error means unknown, which the portal treats as privileged.
    /// </summary>
    /// <summary>Entra's reasons to be privileged are its directory roles and role-assignable groups: the same list as <see cref="ListGroupsAsync"/>.</summary>
    public Task<IdpResult<IReadOnlyList<string>>> ListAdminRolesAsync(string callerId, CancellationToken cancellationToken = default) =>
        ListGroupsAsync(callerId, cancellationToken);

    public async Task<IdpResult<IReadOnlyList<string>>> ListGroupsAsync(string callerId, CancellationToken cancellationToken = default)
    {
        if (InvalidId(callerId) is { } invalid)
        {
            return invalid;
        }

        return await RunAsync("list_privileges", isRead: true, ct => PrivilegesAsync(callerId, ct), cancellationToken);
    }

    internal const string TooManyPagesMessage = "The caller has more directory roles or groups in Entra than the portal reads, so whether one of them makes the account privileged is not known.";

    private async Task<IdpResult<IReadOnlyList<string>>> PrivilegesAsync(string callerId, CancellationToken ct)
    {
        // callerId is a GUID (InvalidId), so it cannot change the filter's meaning.
        var filter = $"principalId eq '{callerId}'";
        var reasons = new List<string>();
        var directory = graph.RoleManagement.Directory;
        var active = await directory.RoleAssignments.GetAsync(r => { r.QueryParameters.Filter = filter; r.QueryParameters.Expand = ["roleDefinition"]; }, ct);
        if (await ReadToTheEndAsync(active, p => p.OdataNextLink, p => (p.Value ?? []).Select(a => EntraPrivilegeNames.ActiveRole + RoleName(a.RoleDefinition?.DisplayName, a.RoleDefinitionId, a.DirectoryScopeId)),
                next => directory.RoleAssignments.WithUrl(next).GetAsync(cancellationToken: ct), reasons) is { } activeUnread)
        {
            return activeUnread;
        }

        var eligible = await directory.RoleEligibilitySchedules.GetAsync(r => { r.QueryParameters.Filter = filter; r.QueryParameters.Expand = ["roleDefinition"]; }, ct);
        if (await ReadToTheEndAsync(eligible, p => p.OdataNextLink, p => (p.Value ?? []).Select(a => EntraPrivilegeNames.EligibleRole + RoleName(a.RoleDefinition?.DisplayName, a.RoleDefinitionId, a.DirectoryScopeId)),
                next => directory.RoleEligibilitySchedules.WithUrl(next).GetAsync(cancellationToken: ct), reasons) is { } eligibleUnread)
        {
            return eligibleUnread;
        }

        var groups = await graph.Users[callerId].TransitiveMemberOf.GraphGroup.GetAsync(r => { r.QueryParameters.Select = ["id", "displayName", "isAssignableToRole"]; r.QueryParameters.Top = 999; }, ct);
        if (await ReadToTheEndAsync(groups, p => p.OdataNextLink, p => (p.Value ?? []).Where(g => g.IsAssignableToRole == true).Select(g => EntraPrivilegeNames.RoleAssignableGroup + (g.DisplayName ?? g.Id)),
                next => graph.Users[callerId].TransitiveMemberOf.GraphGroup.WithUrl(next).GetAsync(cancellationToken: ct), reasons) is { } groupsUnread)
        {
            return groupsUnread;
        }

        return IdpResult<IReadOnlyList<string>>.Success(reasons);
    }

    /// <summary>
    /// Every page of one listing, its reasons added to <paramref name="into"/>; null when read to the last page. An error,
    /// never the reasons read so far, when there are more than <see cref="MaxPages"/> pages (more than any real user
    /// has) or when Graph links the next page on a host other than the Graph host the portal is configured with
    /// (nothing is sent there): either way the caller's privilege is unknown, which counts as privileged.
    /// </summary>
    private async Task<IdpError?> ReadToTheEndAsync<TPage>(TPage? page, Func<TPage, string?> nextLink, Func<TPage, IEnumerable<string>> reasonsOf, Func<string, Task<TPage?>> follow, List<string> into)
        where TPage : class
    {
        for (var pages = 1; page is not null; pages++)
        {
            into.AddRange(reasonsOf(page));
            if (nextLink(page) is not { } next)
            {
                return null;
            }

            if (pages >= MaxPages)
            {
                var tooMany = new IdpError(IdpErrorKind.Invalid, "too_many_pages", TooManyPagesMessage);
                Log("list_privileges", 200, tooMany);
                return tooMany;
            }

            if (!IsGraphLink(next))
            {
                var elsewhere = new IdpError(IdpErrorKind.Invalid, "next_link_untrusted",
                    "Microsoft Graph put the next page of the caller's roles or groups on another host than the Graph URL the portal is configured with, so they could not all be read.");
                Log("list_privileges", 200, elsewhere);
                return elsewhere;
            }

            page = await follow(next);
        }

        return null;
    }

    private static string RoleName(string? displayName, string? roleDefinitionId, string? scope) =>
        (displayName ?? roleDefinitionId ?? "unknown role") + (scope is null or "/" ? "" : " (scope " + scope + ")");

    public Task<IdpResult<PushChallenge>> StartPushAsync(string callerId, string factorId, ChallengeContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult<IdpResult<PushChallenge>>(NotSupported());

    public Task<IdpResult<PushState>> PollPushAsync(string callerId, string pollReference, CancellationToken cancellationToken = default) =>
        Task.FromResult<IdpResult<PushState>>(NotSupported());

    public Task<IdpResult<TotpOutcome>> VerifyTotpAsync(string callerId, string factorId, string passCode, ChallengeContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult<IdpResult<TotpOutcome>>(NotSupported());

    public async Task<IdpResult<PasswordResetOutcome>> ResetPasswordAsync(string callerId, PasswordResetKind kind, CancellationToken cancellationToken = default)
    {
        if (kind != PasswordResetKind.TemporaryPassword)
        {
            return new IdpError(IdpErrorKind.Invalid, "unsupported_reset", NoEmailResetMessage);
        }

        if (InvalidId(callerId) is { } invalid)
        {
            return invalid;
        }

        return await RunAsync("reset_password", isRead: false, async ct =>
        {
            // Graph refuses a cloud password for a user synced from on-premises AD; say why before trying.
            var user = await graph.Users[callerId].GetAsync(r => r.QueryParameters.Select = ["id", "onPremisesSyncEnabled"], ct);
            if (user?.OnPremisesSyncEnabled == true)
            {
                return SyncedUser();
            }

            var password = TemporaryPassword.Generate();
            await graph.Users[callerId].PatchAsync(
                new User { PasswordProfile = new PasswordProfile { Password = password, ForceChangePasswordNextSignIn = true } },
                cancellationToken: ct);
            return IdpResult<PasswordResetOutcome>.Success(new PasswordResetOutcome(PasswordResetKind.TemporaryPassword, password));
        }, cancellationToken, privilegedTarget: callerId);
    }

    public async Task<IdpResult<Done>> RevokeSessionsAsync(string callerId, CancellationToken cancellationToken = default)
    {
        if (InvalidId(callerId) is { } invalid)
        {
            return invalid;
        }

        return await RunAsync("revoke_sessions", isRead: false, async ct =>
        {
            // 200 {"value": true} per the reference; a 204 (null here) is accepted as success as well.
            var answer = await graph.Users[callerId].RevokeSignInSessions.PostAsRevokeSignInSessionsPostResponseAsync(cancellationToken: ct);
            return answer?.Value is false
                ? new IdpError(IdpErrorKind.Unavailable, "not_revoked", "Entra did not confirm that the sessions were revoked; try again.")
                : IdpResult<Done>.Success(default);
        }, cancellationToken);
    }

    public Task<IdpResult<Done>> UnlockAsync(string callerId, CancellationToken cancellationToken = default) =>
        Task.FromResult<IdpResult<Done>>(new IdpError(IdpErrorKind.Invalid, "unsupported_unlock", NoUnlockMessage));

    /// <summary>
    /// Deletes every MFA method (the password stays). Graph refuses to delete the user's default method while another
    /// method remains, and v1.0 does not say which one is the default, so a method refused as the default is retried
    /// after all others. The outcome names what was removed and what remains: a partial reset is reported as such.
    /// </summary>
    public async Task<IdpResult<FactorResetOutcome>> ResetFactorsAsync(string callerId, CancellationToken cancellationToken = default)
    {
        if (InvalidId(callerId) is { } invalid)
        {
            return invalid;
        }

        IReadOnlyList<AuthenticationMethod> methods;
        try
        {
            methods = [.. ((await graph.Users[callerId].Authentication.Methods.GetAsync(cancellationToken: cancellationToken))?.Value ?? []).Where(IsFactor)];
        }
        catch (Exception exception) when (IsGraphFailure(exception, cancellationToken))
        {
            return await MapFailureAsync("reset_factors", exception, isRead: true, callerId, cancellationToken);
        }

        var removed = new List<string>();
        var deferred = new List<AuthenticationMethod>();
        IdpError? lastError = null;
        foreach (var method in methods)
        {
            var error = await DeleteMethodAsync(callerId, method, cancellationToken);
            if (error is { Code: DefaultMethodCode })
            {
                deferred.Add(method);
            }
            else if (error is not null)
            {
                lastError = error;
            }
            else
            {
                removed.Add(MethodLabel(method));
            }
        }

        foreach (var method in deferred)
        {
            var error = await DeleteMethodAsync(callerId, method, cancellationToken);
            if (error is null)
            {
                removed.Add(MethodLabel(method));
            }
            else
            {
                lastError = error;
            }
        }

        if (lastError is null)
        {
            return IdpResult<FactorResetOutcome>.Success(new FactorResetOutcome(removed, []));
        }

        // Something was refused: read what is left rather than guess (a timed-out delete may have happened).
        IReadOnlyList<string> remaining;
        try
        {
            var after = await graph.Users[callerId].Authentication.Methods.GetAsync(cancellationToken: cancellationToken);
            var left = (after?.Value ?? []).Where(IsFactor).ToList();
            remaining = [.. left.Select(MethodLabel)];
            removed = [.. methods.Where(m => !left.Any(l => l.Id == m.Id)).Select(MethodLabel)];
        }
        catch (Exception exception) when (IsGraphFailure(exception, cancellationToken))
        {
            remaining = [.. methods.Select(MethodLabel).Except(removed)];
        }

        return removed.Count == 0 ? lastError : IdpResult<FactorResetOutcome>.Success(new FactorResetOutcome(removed, remaining, lastError.Code));
    }

    /// <summary>Deletes one method through its own collection; null when it is gone.</summary>
    private async Task<IdpError?> DeleteMethodAsync(string callerId, AuthenticationMethod method, CancellationToken ct)
    {
        var authentication = graph.Users[callerId].Authentication;
        var id = method.Id!;
        try
        {
            var delete = method switch
            {
                MicrosoftAuthenticatorAuthenticationMethod => authentication.MicrosoftAuthenticatorMethods[id].DeleteAsync(cancellationToken: ct),
                SoftwareOathAuthenticationMethod => authentication.SoftwareOathMethods[id].DeleteAsync(cancellationToken: ct),
                PhoneAuthenticationMethod => authentication.PhoneMethods[id].DeleteAsync(cancellationToken: ct),
                Fido2AuthenticationMethod => authentication.Fido2Methods[id].DeleteAsync(cancellationToken: ct),
                EmailAuthenticationMethod => authentication.EmailMethods[id].DeleteAsync(cancellationToken: ct),
                WindowsHelloForBusinessAuthenticationMethod => authentication.WindowsHelloForBusinessMethods[id].DeleteAsync(cancellationToken: ct),
                TemporaryAccessPassAuthenticationMethod => authentication.TemporaryAccessPassMethods[id].DeleteAsync(cancellationToken: ct),
                _ => throw new InvalidOperationException("Not a deletable method."),
            };
            await delete;
            return null;
        }
        catch (ApiException exception) when (exception.ResponseStatusCode == 400 && GraphErrorMapper.Message(exception) is { } message
            && message.Contains("default method", StringComparison.OrdinalIgnoreCase))
        {
            return new IdpError(IdpErrorKind.Conflict, DefaultMethodCode, "Entra refused to delete the default method while others remain.");
        }
        catch (Exception exception) when (IsGraphFailure(exception, ct))
        {
            return await MapFailureAsync("reset_factors", exception, isRead: false, callerId, ct);
        }
    }

    private const string DefaultMethodCode = "default_method";

    /// <summary>The password is not a factor; every other type the portal can delete is.</summary>
    private static bool IsFactor(AuthenticationMethod method) => method.Id is { Length: > 0 } && method is
        MicrosoftAuthenticatorAuthenticationMethod or SoftwareOathAuthenticationMethod or PhoneAuthenticationMethod or Fido2AuthenticationMethod
        or EmailAuthenticationMethod or WindowsHelloForBusinessAuthenticationMethod or TemporaryAccessPassAuthenticationMethod;

    /// <summary>A name an agent recognises; no phone number, device name or other personal detail.</summary>
    internal static string MethodLabel(AuthenticationMethod method) => method switch
    {
        MicrosoftAuthenticatorAuthenticationMethod => "Microsoft Authenticator",
        SoftwareOathAuthenticationMethod => "authenticator app (OATH code)",
        PhoneAuthenticationMethod => "phone (SMS/voice)",
        Fido2AuthenticationMethod => "FIDO2 security key",
        EmailAuthenticationMethod => "e-mail address",
        WindowsHelloForBusinessAuthenticationMethod => "Windows Hello for Business",
        TemporaryAccessPassAuthenticationMethod => "Temporary Access Pass",
        _ => "other method",
    };

    public async Task<IdpResult<TemporaryAccess>> IssueTemporaryAccessAsync(string callerId, TimeSpan lifetime, bool usableOnce, CancellationToken cancellationToken = default)
    {
        if (InvalidId(callerId) is { } invalid)
        {
            return invalid;
        }

        var minutes = (int)Math.Clamp(Math.Ceiling(lifetime.TotalMinutes), MinTapMinutes, MaxTapMinutes);
        var issued = await RunAsync("issue_tap", isRead: false, async ct =>
        {
            var now = time.GetUtcNow();
            var tap = await graph.Users[callerId].Authentication.TemporaryAccessPassMethods.PostAsync(
                new TemporaryAccessPassAuthenticationMethod { LifetimeInMinutes = minutes, IsUsableOnce = usableOnce },
                cancellationToken: ct);
            if (tap?.TemporaryAccessPass is not { Length: > 0 } value)
            {
                return Unreadable(isRead: false);
            }

            var expiresAt = (tap.StartDateTime ?? now) + TimeSpan.FromMinutes(tap.LifetimeInMinutes ?? minutes);
            return IdpResult<TemporaryAccess>.Success(new TemporaryAccess(value, expiresAt, tap.IsUsableOnce ?? usableOnce));
        }, cancellationToken, privilegedTarget: callerId);

        // Graph answers 400 when the tenant's Temporary Access Pass policy does not allow this pass (method off for the
        // user, or the lifetime outside the policy's range): say what to check rather than "invalid request".
        return issued.Error is { Kind: IdpErrorKind.Invalid, Code: not "synced_user" }
            ? new IdpError(IdpErrorKind.Invalid, "tap_policy", $"Entra refused the Temporary Access Pass: check the tenant's Temporary Access Pass policy (Authentication methods): it must be enabled for this user and allow a lifetime of {minutes} minutes{(usableOnce ? " and one-time passes" : "")}. Nothing was changed.")
            : issued;
    }

    private static IdpError SyncedUser() => new(IdpErrorKind.Invalid, "synced_user", SyncedUserMessage);

    private static IdpError NotSupported() => new(IdpErrorKind.Invalid, "unsupported_for_entra", NoChallengeMessage);

    private static IdpError Unreadable(bool isRead) => GraphErrorMapper.Unavailable("unreadable_response", isRead);

    /// <summary>Entra object ids are GUIDs; anything else never reaches a Graph path.</summary>
    private static IdpError? InvalidId(string callerId) =>
        Guid.TryParseExact(callerId, "D", out _) ? null : new IdpError(IdpErrorKind.Invalid, "invalid_id", "That is not an Entra user id.");

    private static IdpResult<CallerProfile> ToProfile(User user)
    {
        if (user.Id is not { Length: > 0 } id || user.UserPrincipalName is not { Length: > 0 } upn)
        {
            return Unreadable(isRead: true);
        }

        var status = user.AccountEnabled switch
        {
            true => CallerStatus.Active,
            false => CallerStatus.Suspended,
            null => CallerStatus.Unknown,
        };
        return IdpResult<CallerProfile>.Success(new CallerProfile(id, upn, user.Mail, status)
        {
            DirectorySynced = user.OnPremisesSyncEnabled == true,
            Details = new CallerDetails
            {
                DisplayName = Text(user.DisplayName),
                Title = Text(user.JobTitle),
                Department = Text(user.Department),
                Manager = Text((user.Manager as User)?.DisplayName),
                WorkPhone = Text(user.BusinessPhones?.FirstOrDefault()),
                PasswordChangedAt = user.LastPasswordChangeDateTime,
            },
        });
    }

    private static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>
    /// Runs one Graph operation and maps every expected failure. When a write on a user is refused (403), the
    /// user's directory roles are read to tell the agent whether the target is privileged (Graph refuses a
    /// non-privileged role's changes to admins) or the portal's app simply lacks the permission.
    /// </summary>
    private async Task<IdpResult<T>> RunAsync<T>(string operation, bool isRead, Func<CancellationToken, Task<IdpResult<T>>> call, CancellationToken cancellationToken, string? privilegedTarget = null)
    {
        try
        {
            return await call(cancellationToken);
        }
        catch (ApiException exception)
        {
            var error = GraphErrorMapper.Map(exception, isRead);
            Log(operation, exception.ResponseStatusCode, error);
            if (error.Kind == IdpErrorKind.AccessDenied && await MissingPermissionAsync(operation, cancellationToken) is { } permission)
            {
                // The app's own token says what is missing: no guess about the target is needed.
                error = error with { AgentMessage = GraphErrorMapper.MissingPermissionMessage(permission) };
            }
            else if (error.Kind == IdpErrorKind.AccessDenied && privilegedTarget is not null && await IsPrivilegedAsync(privilegedTarget, cancellationToken) is { } privileged)
            {
                error = error with { AgentMessage = privileged ? GraphErrorMapper.PrivilegedMessage : GraphErrorMapper.MissingRightMessage };
            }

            return error;
        }
        catch (AggregateException exception) when (exception.InnerExceptions.LastOrDefault() is ApiException last)
        {
            // Graph's retry handler gave up on a read after its retries; the last answer says why.
            var error = GraphErrorMapper.Map(last, isRead);
            Log(operation, last.ResponseStatusCode, error);
            return error;
        }
        catch (EntraTokenException exception)
        {
            Log(operation, 0, exception.Error);
            return exception.Error;
        }
        catch (HttpRequestException)
        {
            var error = GraphErrorMapper.Unavailable("unreachable", isRead);
            Log(operation, 0, error);
            return error;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var error = GraphErrorMapper.Unavailable("timeout", isRead);
            Log(operation, 0, error);
            return error;
        }
    }

    private static bool IsGraphFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is ApiException or AggregateException { InnerExceptions: [.., ApiException] } or EntraTokenException or HttpRequestException
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>The portal step each Graph operation serves, for the permission it needs (docs/entra.md).</summary>
    private static readonly Dictionary<string, IdpOperation> OperationSteps = new(StringComparer.Ordinal)
    {
        ["check_users"] = IdpOperation.ReadUsers,
        ["find_caller"] = IdpOperation.ReadUsers,
        ["get_caller"] = IdpOperation.ReadUsers,
        ["get_manager"] = IdpOperation.ReadUsers,
        ["list_factors"] = IdpOperation.VerifyFactors,
        ["list_privileges"] = IdpOperation.ReadRoles,
        ["reset_password"] = IdpOperation.ResetPassword,
        ["revoke_sessions"] = IdpOperation.RevokeSessions,
        ["reset_factors"] = IdpOperation.ResetFactors,
        ["issue_tap"] = IdpOperation.IssueTemporaryAccess,
        ["read_audit_log"] = IdpOperation.ReadAuditLog,
    };

    /// <summary>
    /// After a 403: the application permission the operation needs that the portal's app-only token does not carry
    /// (its <c>roles</c> claim, read from the cached token, never stored). Null when every one is there, so Graph
    /// refused for another reason (the app's directory role, a privileged target), or when it cannot be told.
    /// </summary>
    private async Task<string?> MissingPermissionAsync(string operation, CancellationToken cancellationToken)
    {
        if (appToken is null || !OperationSteps.TryGetValue(operation, out var step))
        {
            return null;
        }

        string token;
        try
        {
            token = await appToken(cancellationToken);
        }
        catch (EntraTokenException)
        {
            return null;
        }

        return RolesClaim(token) is { } roles
            ? PermissionsFor[step].FirstOrDefault(any => !any.Any(p => roles.Contains(p, StringComparer.Ordinal)))?[0]
            : null;
    }

    /// <summary>The same mapping as <see cref="RunAsync"/>, for operations made of several calls.</summary>
    private Task<IdpResult<T>> MapFailureAsync<T>(string operation, Exception exception, bool isRead, string? privilegedTarget, CancellationToken cancellationToken) =>
        RunAsync<T>(operation, isRead, _ => throw exception, cancellationToken, privilegedTarget);

    private async Task<IdpError> MapFailureAsync(string operation, Exception exception, bool isRead, string? privilegedTarget, CancellationToken cancellationToken) =>
        (await MapFailureAsync<Done>(operation, exception, isRead, privilegedTarget, cancellationToken)).Error!;

    private async Task<bool?> IsPrivilegedAsync(string callerId, CancellationToken cancellationToken)
    {
        try
        {
            var privileges = await PrivilegesAsync(callerId, cancellationToken);
            return privileges.IsSuccess ? privileges.Value.Count > 0 : null;
        }
        catch (Exception exception) when (exception is ApiException or AggregateException or EntraTokenException or HttpRequestException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Reading roles needs a permission the portal may not have; the generic message stands then.
            return null;
        }
    }

    private void Log(string operation, int status, IdpError error) =>
        logger.LogWarning("Graph operation {Operation} failed: HTTP {Status}, {Kind} ({Code})", operation, status, error.Kind, error.Code);
}
