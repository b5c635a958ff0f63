namespace Portal.Idp;

/// <summary>
/// Everything the portal asks of a tenant's identity provider about a caller: find them, see which
/// factors can really be challenged, challenge one, and act on the account once the caller is verified.
/// One implementation per IdP kind (Okta over its Management API; Entra over Microsoft Graph).
/// </summary>
/// <remarks>
/// Expected failures (not found, wrong passcode, rate limited, IdP down, insufficient rights) come back
/// as <see cref="IdpResult{T}"/> errors the console can explain; only programming errors throw.
/// Implementations never retry a non-idempotent call blindly.
/// </remarks>
public interface ICallerDirectory : IAccountActionLog
{
    /// <summary>Finds a caller by exact login or e-mail. <see cref="IdpErrorKind.NotFound"/> when there is none (or more than one).</summary>
    Task<IdpResult<CallerProfile>> FindCallerAsync(string loginOrEmail, CancellationToken cancellationToken = default);

    /// <summary>Reads a caller by the IdP's own id.</summary>
    Task<IdpResult<CallerProfile>> GetCallerAsync(string callerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The caller's manager as the IdP names them (Okta profile <c>managerId</c>, an Okta user id or login; Graph
    /// <c>/users/{id}/manager</c>), for manager approval (docs/recovery.md). <see cref="IdpErrorKind.NotFound"/> with
    /// code <c>no_manager</c> when the IdP names none, or names one that is not a user it has.
    /// </summary>
    Task<IdpResult<CallerProfile>> GetManagerAsync(string callerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The first result of the IdP's own identity verification of the caller (an ID document and a selfie, checked by
    /// the verification vendor the organisation set up at the IdP) recorded at or after <paramref name="since"/>;
    /// <see cref="IdentityVerificationState.NotYet"/> when there is none yet (docs/recovery.md). Okta records it in its
    /// System Log (<c>user.identity_verification</c>); Entra ID gives an app no result it can read, so its directory
    /// answers <see cref="IdpErrorKind.Invalid"/> with code <c>idv_not_supported</c>.
    /// </summary>
    Task<IdpResult<IdentityVerificationResult>> FindIdentityVerificationAsync(string callerId, DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>The caller's enrolled factors, each saying whether and how it can be challenged.</summary>
    Task<IdpResult<IReadOnlyList<CallerFactor>>> ListFactorsAsync(string callerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The names of the caller's IdP groups (Okta groups), so that the portal can apply a tenant's privileged-target
    /// rule. For Entra, every entry is a reason the caller is privileged (a directory role, active or PIM-eligible, at
    /// any scope, or a role-assignable group), so any entry makes them privileged. An error means "unknown", which the
    /// portal treats as privileged.
    /// </summary>
    Task<IdpResult<IReadOnlyList<string>>> ListGroupsAsync(string callerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The caller's administrator roles at the IdP: Okta's admin roles assigned to the user directly or through a group;
    /// for Entra the same reasons <see cref="ListGroupsAsync"/> gives (directory roles, active or PIM-eligible, at any
    /// scope, role-assignable groups). Any entry makes the caller privileged; an error means "unknown", which the
    /// portal treats as privileged.
    /// </summary>
    Task<IdpResult<IReadOnlyList<string>>> ListAdminRolesAsync(string callerId, CancellationToken cancellationToken = default);

    /// <summary>Sends a push with number matching. The challenge carries the number the caller must pick.</summary>
    Task<IdpResult<PushChallenge>> StartPushAsync(string callerId, string factorId, ChallengeContext context, CancellationToken cancellationToken = default);

    /// <summary>Polls a push transaction by the reference <see cref="StartPushAsync"/> returned.</summary>
    Task<IdpResult<PushState>> PollPushAsync(string callerId, string pollReference, CancellationToken cancellationToken = default);

    /// <summary>Verifies a TOTP code the caller read out.</summary>
    Task<IdpResult<TotpOutcome>> VerifyTotpAsync(string callerId, string factorId, string passCode, ChallengeContext context, CancellationToken cancellationToken = default);

    /// <summary>Resets the caller's password in the way asked for.</summary>
    Task<IdpResult<PasswordResetOutcome>> ResetPasswordAsync(string callerId, PasswordResetKind kind, CancellationToken cancellationToken = default);

    /// <summary>Ends every sign-in session (and OAuth token) of the caller.</summary>
    Task<IdpResult<Done>> RevokeSessionsAsync(string callerId, CancellationToken cancellationToken = default);

    /// <summary>Unlocks a locked-out account.</summary>
    Task<IdpResult<Done>> UnlockAsync(string callerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes every enrolled factor so that the caller enrols again, and says which were removed and which remain
    /// (a partial reset is a success result whose <see cref="FactorResetOutcome.IsPartial"/> is true).
    /// </summary>
    Task<IdpResult<FactorResetOutcome>> ResetFactorsAsync(string callerId, CancellationToken cancellationToken = default);

    /// <summary>Issues a temporary access code (Okta) / Temporary Access Pass (Entra). The value is shown once.</summary>
    Task<IdpResult<TemporaryAccess>> IssueTemporaryAccessAsync(string callerId, TimeSpan lifetime, bool usableOnce, CancellationToken cancellationToken = default);
}

/// <summary>Creates the <see cref="ICallerDirectory"/> for one tenant's IdP connection.</summary>
public interface ICallerDirectoryFactory
{
    ICallerDirectory Create(IdpConnection connection);
}

/// <summary>A unit result for operations that return nothing.</summary>
public readonly record struct Done;
