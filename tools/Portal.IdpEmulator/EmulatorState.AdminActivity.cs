namespace Portal.IdpEmulator;

/// <summary>
/// The admin-activity log both IdPs keep (Okta's System Log, Entra's directory audits): every successful
/// admin-type action on a user, through the emulator's APIs or by an administrator at the IdP's own console. The
/// portal reads it to find helpdesk actions done outside the portal.
/// </summary>
public sealed partial class EmulatorState
{
    private readonly List<AdminActivity> _activities = [];

    /// <summary>Every admin-type action recorded so far, both sides, in recording order.</summary>
    public IReadOnlyList<AdminActivity> AdminActivities
    {
        get
        {
            lock (_gate)
            {
                return [.. _activities];
            }
        }
    }

    /// <summary>
    /// Test hook (and the <c>/admin</c> page): an IdP administrator does <paramref name="action"/> to the user in the
    /// IdP's own console, outside the portal, as an attacker who talked an admin into it would have them do. The
    /// user's state changes as the API would change it, and the audit log names the administrator
    /// (<see cref="AdminActor.OktaAdministrator"/> or <see cref="AdminActor.EntraAdministrator"/>). Returns the events
    /// recorded (several when an Entra MFA reset deletes several methods).
    /// </summary>
    /// <exception cref="ArgumentException">No such user on that side.</exception>
    /// <exception cref="InvalidOperationException">The IdP would refuse it (the user's status, a policy, an action that side has not).</exception>
    public IReadOnlyList<AdminActivity> ActAsAdmin(AdminAction action, string userLoginOrId, IdpSide side)
    {
        ArgumentNullException.ThrowIfNull(userLoginOrId);
        return side == IdpSide.Okta ? OktaAdminAct(action, userLoginOrId) : EntraAdminAct(action, userLoginOrId);
    }

    /// <summary>
    /// Test hook (and the caller's phone page): the Okta user finishes the identity verification their organisation's
    /// account management policy asks for (an ID document and a selfie at the vendor), and Okta records the result in
    /// its System Log as <c>user.identity_verification</c>: <c>ALLOW</c> when <paramref name="passed"/>, else
    /// <c>DENY</c>. The emulator never sees a document or a face either.
    /// </summary>
    /// <exception cref="ArgumentException">No such Okta user.</exception>
    public AdminActivity VerifyIdentity(string login, bool passed) =>
        RecordIdentityVerification(login, passed ? "ALLOW" : "DENY", passed ? "CLAIMS_VERIFIED" : "CLAIMS_NOT_VERIFIED");

    /// <summary>
    /// Test hook: Okta records a <c>user.identity_verification</c> event for the user with the outcome
    /// <paramref name="result"/> and <paramref name="reason"/> (<c>ALLOW</c>/<c>CLAIMS_VERIFIED</c> and
    /// <c>DENY</c>/<c>CLAIMS_NOT_VERIFIED</c> as documented; any other result of Okta's spec, such as a vendor that
    /// failed), naming the user as <paramref name="parties"/> says, from the request's <paramref name="city"/> and
    /// <paramref name="country"/> (Okta's <c>client.geographicalContext</c>; none when null).
    /// </summary>
    /// <exception cref="ArgumentException">No such Okta user.</exception>
    public AdminActivity RecordIdentityVerification(string login, string result, string? reason, IdentityVerificationParties parties = IdentityVerificationParties.UserActorAndTarget,
        string? city = "Springfield", string? country = "United States", string? userAgent = null)
    {
        var user = FindCaller(login) ?? throw new ArgumentException("No such Okta user.", nameof(login));
        var actor = parties == IdentityVerificationParties.UserTargetOnly
            ? new AdminActor(AdminActorKind.OktaSystem, EmulatorAdmins.OktaSystemPrincipalId, EmulatorAdmins.OktaSystemPrincipalLogin, "Okta System", "")
            : new AdminActor(AdminActorKind.Self, user.Id, user.Login, user.FirstName + " " + user.LastName, "");
        actor = actor with { IpAddress = EmulatorAdmins.CallerIpAddress, UserAgent = userAgent ?? EmulatorAdmins.CallerUserAgent };
        var kind = (result, reason) switch
        {
            ("ALLOW", "CLAIMS_VERIFIED") => AdminActivityKind.IdentityVerified,
            ("DENY", "CLAIMS_NOT_VERIFIED") => AdminActivityKind.IdentityNotVerified,
            _ => AdminActivityKind.IdentityVerificationOther,
        };
        return RecordActivity(IdpSide.Okta, kind, actor, user.Id, user.Login, user.FirstName + " " + user.LastName, shape: a => a with
        {
            OutcomeResult = result,
            OutcomeReason = reason,
            Parties = parties,
            ClientCity = city,
            ClientCountry = country,
        });
    }

    internal AdminActivity RecordActivity(IdpSide side, AdminActivityKind kind, AdminActor actor, string targetId, string targetLogin, string targetName, string? detail = null, Func<AdminActivity, AdminActivity>? shape = null)
    {
        lock (_gate)
        {
            var activity = new AdminActivity
            {
                Sequence = _activities.Count + 1,
                Id = Guid.NewGuid().ToString(),
                At = _time.GetUtcNow(),
                Side = side,
                Kind = kind,
                Actor = actor,
                TargetId = targetId,
                TargetLogin = targetLogin,
                TargetDisplayName = targetName,
                // Okta's transaction ids are 27 characters of base64url; Graph's correlationId is a GUID.
                TransactionId = side == IdpSide.Okta ? RandomString(27) : Guid.NewGuid().ToString(),
                Detail = detail,
            };
            activity = shape?.Invoke(activity) ?? activity;
            _activities.Add(activity);
            return activity;
        }
    }

    internal AdminActivity RecordOkta(AdminActivityKind kind, AdminActor actor, DemoCaller user, string? detail = null) =>
        RecordActivity(IdpSide.Okta, kind, actor, user.Id, user.Login, user.FirstName + " " + user.LastName, detail);

    internal AdminActivity RecordEntra(AdminActivityKind kind, AdminActor actor, EntraUser user, string? detail = null) =>
        RecordActivity(IdpSide.Entra, kind, actor, user.Id, user.UserPrincipalName, user.DisplayName, detail);

    /// <summary>One side's events in recording order, with the sequence number of the last event of either side.</summary>
    internal (IReadOnlyList<AdminActivity> Events, long LastSequence) ActivitiesOf(IdpSide side)
    {
        lock (_gate)
        {
            return ([.. _activities.Where(a => a.Side == side)], _activities.Count);
        }
    }

    private List<AdminActivity> OktaAdminAct(AdminAction action, string userLoginOrId)
    {
        var user = FindByIdOrLogin(userLoginOrId) ?? throw new ArgumentException("No such Okta user.", nameof(userLoginOrId));
        var admin = AdminActor.OktaAdministrator;
        switch (action)
        {
            case AdminAction.ResetPassword:
                RequireStatus(user, OktaApi.PasswordStatuses);
                SetStatus(user, "RECOVERY");
                user.CountPasswordReset();
                return [RecordOkta(AdminActivityKind.PasswordReset, admin, user)];
            case AdminAction.ResetMfa:
                RequireStatus(user, OktaApi.FactorResetStatuses);
                RemoveFactors(user);
                user.CountFactorsReset();
                return [RecordOkta(AdminActivityKind.FactorsReset, admin, user)];
            case AdminAction.Unlock:
                RequireStatus(user, OktaApi.UnlockStatuses);
                if (user.CredentialsProvider is not "OKTA")
                {
                    throw new InvalidOperationException("Okta does not unlock a directory-sourced user: it is unlocked in its directory.");
                }

                if (user.Status == "LOCKED_OUT")
                {
                    SetStatus(user, "ACTIVE");
                }

                user.CountUnlock();
                return [RecordOkta(AdminActivityKind.Unlocked, admin, user)];
            case AdminAction.ClearSessions:
                user.CountSessionsRevoked();
                return [RecordOkta(AdminActivityKind.SessionsCleared, admin, user)];
            case AdminAction.IssueTemporaryAccess:
                if (ClassicEngine || !OktaTacActive)
                {
                    throw new InvalidOperationException("The org has no active Temporary Access Code authenticator.");
                }

                RequireStatus(user, OktaApi.TacStatuses);
                user.CountTemporaryAccessCode();
                return [RecordOkta(AdminActivityKind.TemporaryAccessIssued, admin, user, "aen" + RandomString(17))];
            default:
                throw new ArgumentOutOfRangeException(nameof(action), action, null);
        }
    }

    private List<AdminActivity> EntraAdminAct(AdminAction action, string userLoginOrId)
    {
        var user = Graph.FindByIdOrUpn(userLoginOrId) ?? throw new ArgumentException("No such Entra user.", nameof(userLoginOrId));
        var admin = AdminActor.EntraAdministrator;
        switch (action)
        {
            case AdminAction.ResetPassword:
                if (user.OnPremisesSyncEnabled)
                {
                    throw new InvalidOperationException(GraphApi.SyncedUserRefusal);
                }

                // The admin center makes the user change the password at next sign-in unless the admin unticks it.
                user.CountPasswordReset(forceChange: true);
                return [RecordEntra(AdminActivityKind.PasswordReset, admin, user)];
            case AdminAction.ResetMfa:
                // Entra has no "reset all": the admin deletes each method, the default one last (Graph refuses it first).
                var recorded = new List<AdminActivity>();
                foreach (var method in user.Methods
                    .Where(m => m.ODataType != "passwordAuthenticationMethod")
                    .OrderBy(m => string.Equals(m.Id, user.DefaultMethodId, StringComparison.OrdinalIgnoreCase)))
                {
                    if (user.RemoveMethod(method.ODataType, method.Id) == MethodRemoval.Removed)
                    {
                        recorded.Add(RecordEntra(AdminActivityKind.FactorRemoved, admin, user, method.ODataType));
                    }
                }

                return recorded.Count > 0 ? recorded : throw new InvalidOperationException("The user has no authentication method to delete.");
            case AdminAction.ClearSessions:
                user.CountSessionsRevoked();
                return [RecordEntra(AdminActivityKind.SessionsCleared, admin, user)];
            case AdminAction.IssueTemporaryAccess:
                var policy = Graph.TapPolicy;
                if (!policy.Enabled)
                {
                    throw new InvalidOperationException("Temporary Access Pass is not enabled by the authentication methods policy.");
                }

                user.ReplaceTemporaryAccessPass(new EntraMethod(Guid.NewGuid().ToString(), GraphDirectory.TapType, Now) { LifetimeInMinutes = policy.DefaultLifetimeInMinutes });
                return [RecordEntra(AdminActivityKind.TemporaryAccessIssued, admin, user, GraphDirectory.TapType)];
            case AdminAction.Unlock:
                // Entra's audit catalogue has no admin unlock (smart lockout expires on its own).
                throw new InvalidOperationException("Entra ID has no administrator unlock.");
            default:
                throw new ArgumentOutOfRangeException(nameof(action), action, null);
        }
    }

    private static void RequireStatus(DemoCaller user, string[] allowed)
    {
        if (!allowed.Contains(user.Status))
        {
            throw new InvalidOperationException($"Okta does not allow this while the user is {user.Status}.");
        }
    }
}
