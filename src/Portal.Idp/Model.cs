namespace Portal.Idp;

/// <summary>Which identity provider a tenant uses.</summary>
public enum IdpKind
{
    Okta,
    Entra,
}

/// <summary>
/// How the portal reaches one tenant's IdP. <see cref="ApiToken"/> is the resolved secret (from the
/// tenant's secret reference); it is never stored or logged.
/// </summary>
public sealed record IdpConnection(string TenantId, IdpKind Kind, Uri BaseUrl, string ApiToken)
{
    /// <summary>
    /// For <see cref="IdpKind.Entra"/>: the app registration that gets the app-only Graph token
    /// (<see cref="ApiToken"/> is its client secret, <see cref="BaseUrl"/> the Graph root). Null for Okta.
    /// </summary>
    public EntraAppCredentials? Entra { get; init; }

    /// <summary>For <see cref="IdpKind.Okta"/>: optional settings beyond the org URL and credential. Null for Entra.</summary>
    public OktaConnectionSettings? Okta { get; init; }

    /// <summary>The tenant's reconciliation is on: the onboarding check also proves the audit log can be read.</summary>
    public bool ReadsAuditLog { get; init; }

    /// <summary>Redacted so that a connection written to a log by accident carries no secret.</summary>
    public override string ToString() => $"IdpConnection {{ TenantId = {TenantId}, Kind = {Kind}, BaseUrl = {BaseUrl} }}";
}

/// <summary>
/// Which Entra app registration the portal uses for Microsoft Graph. <see cref="TokenEndpoint"/> is null for
/// the Microsoft identity platform (<c>https://login.microsoftonline.com/{DirectoryTenantId}/oauth2/v2.0/token</c>);
/// set it only to reach another cloud or the emulator. None of these values is secret.
/// </summary>
public sealed record EntraAppCredentials(string DirectoryTenantId, string ClientId, Uri? TokenEndpoint = null);

/// <summary>
/// Okta settings of one tenant. With <see cref="ServiceApp"/> set, the portal authenticates as an Okta OAuth 2.0
/// service app and <see cref="IdpConnection.ApiToken"/> is that app's private key (PEM or JWK); otherwise it is
/// an SSWS API token. None of these values is secret.
/// </summary>
public sealed record OktaConnectionSettings
{
    /// <summary>The id of the org's temporary access code authenticator: when set, the authenticator listing is skipped.</summary>
    public string? TacAuthenticatorId { get; init; }

    /// <summary>
    /// The org's canonical URL as its onboarding check last read it (<c>/.well-known/okta-organization</c>), when it
    /// differs from the configured one: push poll links on its host are trusted too. Null: only the configured URL.
    /// </summary>
    public Uri? CanonicalBaseUrl { get; init; }

    public OktaServiceApp? ServiceApp { get; init; }

    /// <summary>
    /// The id of the SSWS API token the portal uses (<c>00T…</c>): the System Log names it on every request made with
    /// it, which is how reconciliation tells the portal's own actions from an administrator's. Null with a service app
    /// (its client id tells) or when reconciliation is off.
    /// </summary>
    public string? ApiTokenId { get; init; }
}

/// <summary>
/// An Okta API service app (client credentials with <c>private_key_jwt</c>). <see cref="Scopes"/> are exactly the
/// ones requested; <see cref="KeyId"/> is the <c>kid</c> of the registered public key; <see cref="UseDpop"/> when
/// the app requires DPoP-bound tokens.
/// </summary>
public sealed record OktaServiceApp(string ClientId, IReadOnlyList<string> Scopes, string? KeyId = null, bool UseDpop = false);

/// <summary>The Okta API scopes a service app needs for what the portal does (docs/configuration.md).</summary>
public static class OktaServiceAppScopes
{
    /// <summary>
    /// Users read and manage (look-up, verification and every action), roles read (a caller with an admin role needs a
    /// second agent's approval), the authenticator listing only when the TAC authenticator id is not configured, and the
    /// System Log only when the tenant's reconciliation is on.
    /// </summary>
    public static IReadOnlyList<string> Default(string? tacAuthenticatorId, bool readsSystemLog = false)
    {
        List<string> scopes = ["okta.users.read", "okta.users.manage", "okta.roles.read"];
        if (string.IsNullOrWhiteSpace(tacAuthenticatorId))
        {
            scopes.Add("okta.authenticators.read");
        }

        if (readsSystemLog)
        {
            // Reconciliation reads the System Log (docs/audit.md, "Outside the portal").
            scopes.Add("okta.logs.read");
        }

        return scopes;
    }
}

/// <summary>What the portal passes along when it challenges a caller (Okta requires a User-Agent on verify).</summary>
public sealed record ChallengeContext(string UserAgent, string? ClientAddress);

/// <summary>A caller as the IdP describes them. Never stored: the portal keeps only HMAC'd ids and masked logins.</summary>
public sealed record CallerProfile(string Id, string Login, string? Email, CallerStatus Status)
{
    /// <summary>
    /// Mastered in an on-premises directory (Entra <c>onPremisesSyncEnabled</c>): the IdP refuses a cloud password
    /// reset, so the console offers a temporary access pass and session revocation instead.
    /// </summary>
    public bool DirectorySynced { get; init; }

    /// <summary>The person behind the account, as the IdP knows them: for the agent's screen only, never stored or logged.</summary>
    public CallerDetails Details { get; init; } = CallerDetails.None;

    /// <summary>Ids and status only, so that a profile written to a log by accident carries no PII.</summary>
    public override string ToString() => $"CallerProfile {{ Id = {Id}, Status = {Status} }}";
}

/// <summary>
/// What the IdP says about the person behind an account, read for one screen (the caller card, an agent's name on an
/// audit page) and then dropped: none of it is stored or logged (docs/security-decisions.md "Caller context, live and
/// never stored"). Each value is null when the IdP does not have it or the portal's credential may not read it.
/// </summary>
public sealed record CallerDetails
{
    public static CallerDetails None { get; } = new();

    public string? DisplayName { get; init; }

    /// <summary>Job title (Okta <c>profile.title</c>, Entra <c>jobTitle</c>).</summary>
    public string? Title { get; init; }

    public string? Department { get; init; }

    /// <summary>The manager's name (Okta <c>profile.manager</c>, Entra the manager's <c>displayName</c>).</summary>
    public string? Manager { get; init; }

    /// <summary>The work phone on file (Okta <c>profile.primaryPhone</c>, Entra the first of <c>businessPhones</c>): the number an agent calls back, never one the caller gives.</summary>
    public string? WorkPhone { get; init; }

    /// <summary>When the account's status last changed (Okta <c>statusChanged</c>): since when it is locked, for example.</summary>
    public DateTimeOffset? StatusChangedAt { get; init; }

    /// <summary>The last sign-in (Okta <c>lastLogin</c>); null for Entra, where it needs AuditLog.Read.All and Entra ID P1.</summary>
    public DateTimeOffset? LastSignInAt { get; init; }

    /// <summary>When the password was last changed (Okta <c>passwordChanged</c>, Entra <c>lastPasswordChangeDateTime</c>).</summary>
    public DateTimeOffset? PasswordChangedAt { get; init; }

    /// <summary>Redacted: these are PII.</summary>
    public override string ToString() => "CallerDetails { redacted }";
}

/// <summary>
/// What an MFA reset did. <see cref="Removed"/> and <see cref="Remaining"/> name the methods (by kind, never by
/// number or device); both empty means the IdP removed every factor in one call (Okta). A reset with methods
/// remaining is partial: neither a success nor a failure, and <see cref="StoppedBy"/> is the IdP's refusal code.
/// </summary>
public sealed record FactorResetOutcome(IReadOnlyList<string> Removed, IReadOnlyList<string> Remaining, string? StoppedBy = null)
{
    public static FactorResetOutcome Everything { get; } = new([], []);

    public bool IsPartial => Remaining.Count > 0;
}

public enum CallerStatus
{
    Active,
    LockedOut,
    PasswordExpired,
    Recovery,
    Suspended,
    Deprovisioned,
    Staged,
    Provisioned,
    Unknown,
}

/// <summary>Where the IdP's identity verification of a caller stands.</summary>
public enum IdentityVerificationState
{
    /// <summary>No result since the start: the caller has not finished (or not begun) the vendor's check.</summary>
    NotYet,

    /// <summary>The vendor verified the caller's ID and face, and the IdP allowed it (Okta: <c>ALLOW</c>, <c>CLAIMS_VERIFIED</c>).</summary>
    Verified,

    /// <summary>The IdP denied it (Okta: <c>DENY</c>): the person who went through the check failed it. Counted against the caller.</summary>
    NotVerified,

    /// <summary>
    /// Any other result (Okta: another outcome, such as a vendor that failed, or <c>ALLOW</c> without
    /// <c>CLAIMS_VERIFIED</c>): not verified, but no one was seen failing the check. Not counted against the caller.
    /// </summary>
    NoDecision,
}

/// <summary>
/// Where and on what the IdP recorded an identity verification's request, as the IdP gives it (Okta's
/// <c>client.geographicalContext</c> and <c>client.userAgent</c>): for the agent's page, never stored. No address.
/// </summary>
public sealed record IdentityVerificationClient(string? City, string? Country, string? Os, string? Browser)
{
    public bool IsEmpty => City is null && Country is null && Os is null && Browser is null;
}

/// <summary>
/// The IdP's identity-verification result for a caller (docs/recovery.md): the IdP's event id (the portal uses each
/// pass once), its time, and its reason code; never the document's or the face's data, which the IdP does not give.
/// </summary>
public sealed record IdentityVerificationResult(IdentityVerificationState State, string? EventId = null, DateTimeOffset? At = null, string? Reason = null)
{
    /// <summary>Where and on what the IdP recorded the check; null when it gives nothing.</summary>
    public IdentityVerificationClient? Client { get; init; }

    public static IdentityVerificationResult NotYet { get; } = new(IdentityVerificationState.NotYet);
}

/// <summary>The strong methods the portal accepts (NIST 800-63B AAL2), by their stable names.</summary>
public static class VerificationMethods
{
    public const string OktaPush = "okta.push";
    public const string OktaTotp = "okta.totp";
    public const string EntraPush = "entra.push";
    public const string OidcStepUp = "oidc.stepup";

    /// <summary>Recovery (docs/recovery.md): the caller's manager approved by a push with number matching on their own device.</summary>
    public const string RecoveryManager = "recovery.manager";

    /// <summary>
    /// Recovery (docs/recovery.md): the agent called the caller back at the work phone the IdP has on file, and who
    /// answered said the one-time code the agent had given on the caller's own call. Weaker than any factor.
    /// </summary>
    public const string RecoveryCallBack = "recovery.callback";

    /// <summary>
    /// Recovery (docs/recovery.md): the caller passed the identity verification their organisation set up at Okta (an ID
    /// document and a selfie, checked by the vendor), read from Okta's System Log. The portal never sees the document
    /// or the face.
    /// </summary>
    public const string RecoveryIdVerification = "recovery.idv";

    /// <summary>Whether <paramref name="method"/> is a recovery method: an action done through it sends the caller a recovery notice.</summary>
    public static bool IsRecovery(string? method) => method is RecoveryManager or RecoveryCallBack or RecoveryIdVerification;
}

/// <summary>The kind of an enrolled factor, as the IdP names it.</summary>
public enum FactorKind
{
    Push,
    Totp,
    Sms,
    Call,
    Email,
    Question,
    SignedNonce,
    WebAuthn,
    HardwareToken,
    Other,
}

/// <summary>
/// An enrolled factor and whether the portal can challenge it. <see cref="Method"/> is null when it cannot,
/// and <see cref="NotChallengeableReason"/> says why in words an agent understands
/// (e.g. "SMS is not accepted: it is a restricted authenticator").
/// </summary>
public sealed record CallerFactor(string Id, FactorKind Kind, string Provider, bool IsActive, string? Method, string? NotChallengeableReason)
{
    /// <summary>When the caller enrolled it, where the IdP says (Okta <c>created</c>, Graph <c>createdDateTime</c>); a factor enrolled minutes ago deserves a question.</summary>
    public DateTimeOffset? EnrolledAt { get; init; }
}

/// <summary>A push sent with number matching. <see cref="PollReference"/> is opaque to the caller of the adapter.</summary>
public sealed record PushChallenge(int CorrectAnswer, DateTimeOffset ExpiresAt, string PollReference);

public enum PushState
{
    Waiting,
    Approved,
    Rejected,
    TimedOut,
}

public enum TotpOutcome
{
    Accepted,
    Invalid,
    Replayed,
}

public enum PasswordResetKind
{
    /// <summary>The IdP e-mails the caller a reset link.</summary>
    SendEmail,

    /// <summary>A one-time reset link the agent reads out once.</summary>
    OneTimeLink,

    /// <summary>A temporary password the agent reads out once; the caller must change it at sign-in.</summary>
    TemporaryPassword,
}

/// <summary>The result of a password reset. <see cref="OneTimeSecret"/> is shown once, never stored or logged.</summary>
public sealed record PasswordResetOutcome(PasswordResetKind Kind, string? OneTimeSecret)
{
    public override string ToString() => $"PasswordResetOutcome {{ Kind = {Kind}, OneTimeSecret = {(OneTimeSecret is null ? "none" : "[redacted]")} }}";
}

/// <summary>A temporary access code / pass. <see cref="Value"/> is shown once, never stored or logged.</summary>
public sealed record TemporaryAccess(string Value, DateTimeOffset ExpiresAt, bool UsableOnce)
{
    public override string ToString() => $"TemporaryAccess {{ Value = [redacted], ExpiresAt = {ExpiresAt:O}, UsableOnce = {UsableOnce} }}";
}
