namespace Portal.IdpEmulator;

/// <summary>Which of the emulator's two directories an action happened in: the Okta org or the Entra directory.</summary>
public enum IdpSide
{
    Okta,
    Entra,
}

/// <summary>A helpdesk action an IdP administrator takes on a user in the IdP's own console (<see cref="EmulatorState.ActAsAdmin"/>).</summary>
public enum AdminAction
{
    ResetPassword,
    ResetMfa,
    Unlock,
    ClearSessions,
    IssueTemporaryAccess,
}

/// <summary>What an admin-type action did to a user, whoever did it; each side's audit log names it its own way.</summary>
public enum AdminActivityKind
{
    /// <summary>Okta <c>user.account.reset_password</c>; Entra "Reset user password".</summary>
    PasswordReset,

    /// <summary>Okta <c>user.account.expire_password</c> (a temporary password issued).</summary>
    PasswordExpired,

    /// <summary>Okta <c>user.mfa.factor.reset_all</c>.</summary>
    FactorsReset,

    /// <summary>Okta <c>user.mfa.factor.deactivate</c>; Entra "Admin deleted security info".</summary>
    FactorRemoved,

    /// <summary>Okta <c>user.account.unlock_by_admin</c>.</summary>
    Unlocked,

    /// <summary>Okta <c>user.session.clear</c>; Entra "Update StsRefreshTokenValidFrom Timestamp".</summary>
    SessionsCleared,

    /// <summary>Okta <c>user.mfa.factor.activate</c> of a TAC enrolment; Entra "Admin registered security info" of a TAP.</summary>
    TemporaryAccessIssued,

    /// <summary>
    /// Okta <c>user.identity_verification</c> with the outcome <c>ALLOW</c> (reason <c>CLAIMS_VERIFIED</c>): the user
    /// passed the ID verification vendor's check an account management policy asked for. The user's own activity.
    /// </summary>
    IdentityVerified,

    /// <summary>Okta <c>user.identity_verification</c> with the outcome <c>DENY</c> (reason <c>CLAIMS_NOT_VERIFIED</c>).</summary>
    IdentityNotVerified,

    /// <summary>
    /// Okta <c>user.identity_verification</c> with another outcome (<see cref="AdminActivity.OutcomeResult"/>,
    /// <see cref="AdminActivity.OutcomeReason"/>): the vendor failed or the check ended without a decision.
    /// </summary>
    IdentityVerificationOther,
}

/// <summary>Who an Okta <c>user.identity_verification</c> event names, and where (<see cref="EmulatorState.RecordIdentityVerification"/>).</summary>
public enum IdentityVerificationParties
{
    /// <summary>The user as the actor (they act for themself) and as the <c>User</c> target.</summary>
    UserActorAndTarget,

    /// <summary>The user as the actor only; the target is the verification vendor's identity provider.</summary>
    UserActorOnly,

    /// <summary>Okta's system principal as the actor (not the user); the user as the <c>User</c> target.</summary>
    UserTargetOnly,
}

/// <summary>Who an audit event names as having acted.</summary>
public enum AdminActorKind
{
    /// <summary>The user themself, for their own activity (an identity verification).</summary>
    Self,

    /// <summary>Okta itself (its system principal), for what it records without a user or app acting.</summary>
    OktaSystem,

    /// <summary>An Okta SSWS API token: Okta logs its owner (a user) and the token's id.</summary>
    OktaApiToken,

    /// <summary>An Okta OAuth 2.0 service app (client credentials): actor type <c>PublicClientApp</c>.</summary>
    OktaServiceApp,

    /// <summary>An Entra app registration with an app-only Graph token: <c>initiatedBy.app</c>.</summary>
    GraphApp,

    /// <summary>A person at the IdP's admin console, outside the portal.</summary>
    Administrator,
}

/// <summary>
/// The actor of an audit event, with the request facts the IdP logs beside it. <see cref="ClientId"/> is Okta's
/// <c>client.id</c> (the OAuth client, or for SSWS the agent) and Graph's <c>initiatedBy.app.appId</c>.
/// </summary>
public sealed record AdminActor(AdminActorKind Kind, string Id, string AlternateId, string DisplayName, string ClientId)
{
    /// <summary>Okta's <c>transaction.detail.requestApiTokenId</c>: set for an SSWS call only.</summary>
    public string? ApiTokenId { get; init; }

    public string IpAddress { get; init; } = "";

    public string UserAgent { get; init; } = "";

    /// <summary>The actor an SSWS call to the emulator's Okta API is logged under: the token's owner.</summary>
    public static AdminActor OktaApiTokenOwner(string ipAddress, string userAgent) => new(
        AdminActorKind.OktaApiToken, EmulatorAdmins.OktaApiTokenOwnerId, EmulatorAdmins.OktaApiTokenOwnerLogin, EmulatorAdmins.OktaApiTokenOwnerName, EmulatorAdmins.OktaSswsClientId)
    {
        ApiTokenId = EmulatorAdmins.OktaApiTokenId,
        IpAddress = ipAddress,
        UserAgent = userAgent,
    };

    /// <summary>The Okta administrator at the Admin Console.</summary>
    public static AdminActor OktaAdministrator { get; } = new(
        AdminActorKind.Administrator, EmulatorAdmins.OktaAdminId, EmulatorAdmins.OktaAdminLogin, EmulatorAdmins.OktaAdminName, EmulatorAdmins.OktaAdminConsoleClientId)
    {
        IpAddress = EmulatorAdmins.AdminIpAddress,
        UserAgent = EmulatorAdmins.AdminUserAgent,
    };

    /// <summary>The Entra administrator at the Entra admin center.</summary>
    public static AdminActor EntraAdministrator { get; } = new(
        AdminActorKind.Administrator, EmulatorAdmins.EntraAdminId, EmulatorAdmins.EntraAdminUpn, EmulatorAdmins.EntraAdminName, "")
    {
        IpAddress = EmulatorAdmins.AdminIpAddress,
        UserAgent = EmulatorAdmins.AdminUserAgent,
    };
}

/// <summary>
/// One admin-type action on a user, as the emulator's audit log holds it: what, when (the emulator's clock), by
/// whom, on which user. <see cref="Sequence"/> is the recording order, which both logs page by.
/// </summary>
public sealed record AdminActivity
{
    public required long Sequence { get; init; }

    /// <summary>Okta's <c>uuid</c> or Graph's <c>id</c> (a GUID).</summary>
    public required string Id { get; init; }

    public required DateTimeOffset At { get; init; }

    public required IdpSide Side { get; init; }

    public required AdminActivityKind Kind { get; init; }

    public required AdminActor Actor { get; init; }

    /// <summary>The affected user's Okta id or Entra object id.</summary>
    public required string TargetId { get; init; }

    /// <summary>The affected user's Okta login or Entra user principal name.</summary>
    public required string TargetLogin { get; init; }

    public required string TargetDisplayName { get; init; }

    /// <summary>Okta's <c>transaction.id</c>, Graph's <c>correlationId</c>: one per request.</summary>
    public required string TransactionId { get; init; }

    /// <summary>Okta: the TAC enrolment's id. Entra: the method's <c>@odata.type</c> (without the namespace) added or deleted.</summary>
    public string? Detail { get; init; }

    /// <summary>For <see cref="AdminActivityKind.IdentityVerificationOther"/>: Okta's <c>outcome.result</c> and <c>outcome.reason</c>.</summary>
    public string? OutcomeResult { get; init; }

    public string? OutcomeReason { get; init; }

    /// <summary>For an identity verification: who the event names, and where.</summary>
    public IdentityVerificationParties Parties { get; init; }

    /// <summary>Okta's <c>client.geographicalContext</c> city and country of the request, when Okta resolved them.</summary>
    public string? ClientCity { get; init; }

    public string? ClientCountry { get; init; }
}

/// <summary>
/// The fixed identities the emulator's audit logs name (documented in the emulator's README), so that tests and
/// the portal's reconciliation know which events came through the portal's credential and which did not.
/// </summary>
public static class EmulatorAdmins
{
    /// <summary>The id of the emulator's one SSWS API token (Okta's <c>transaction.detail.requestApiTokenId</c>).</summary>
    public const string OktaApiTokenId = "00Tportalemulator001";

    /// <summary>The Okta user who owns that token: an SSWS call is logged as this user (type <c>User</c>).</summary>
    public const string OktaApiTokenOwnerId = "00uportaltokenowner1";

    public const string OktaApiTokenOwnerLogin = "portal.service@demo.example";

    public const string OktaApiTokenOwnerName = "Portal Service Account";

    /// <summary>Okta's <c>client.id</c> for an SSWS call: "the ID of the agent making the request".</summary>
    public const string OktaSswsClientId = "okta-api-token-agent";

    /// <summary>The human Okta administrator who acts at the Admin Console (<see cref="EmulatorState.ActAsAdmin"/>).</summary>
    public const string OktaAdminId = "00uoktaconsoleadmin1";

    public const string OktaAdminLogin = "okta.admin@demo.example";

    public const string OktaAdminName = "Okta Administrator";

    /// <summary>Okta's <c>client.id</c> for the Okta Admin Console.</summary>
    public const string OktaAdminConsoleClientId = "okta.2b1959c8-bcc0-56eb-a589-cfcfb7422f26";

    /// <summary>The human Entra administrator (object id) who acts at the Entra admin center.</summary>
    public const string EntraAdminId = "7a1d6c52-93e0-4b8f-a5d4-2c6e9f0b1a37";

    public const string EntraAdminUpn = "entra.admin@entra.example";

    public const string EntraAdminName = "Entra Administrator";

    /// <summary>Where the administrators sit (a documentation address, RFC 5737).</summary>
    public const string AdminIpAddress = "203.0.113.50";

    public const string AdminUserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

    /// <summary>Okta's system principal, the actor of events Okta itself records (<see cref="IdentityVerificationParties.UserTargetOnly"/>).</summary>
    public const string OktaSystemPrincipalId = "0oaoktasystem0000001";

    public const string OktaSystemPrincipalLogin = "system@okta.com";

    /// <summary>The identity provider an Okta org configures for its verification vendor (type <c>IDV_PERSONA</c>).</summary>
    public const string IdvIdentityProviderId = "0oaidvpersona0000001";

    /// <summary>Where a caller verifies their identity from (a documentation address, RFC 5737): their own phone.</summary>
    public const string CallerIpAddress = "198.51.100.77";

    public const string CallerUserAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
}
