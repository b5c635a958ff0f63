namespace Portal.Idp;

/// <summary>
/// The helpdesk actions on a user's account that the IdP's own audit log records, whoever did them: the portal, an
/// administrator in the Okta Admin Console or the Entra admin center, or another tool. Reconciliation compares them
/// with what the portal did (docs/audit.md, "Outside the portal").
/// </summary>
public enum AccountActionKind
{
    PasswordReset,

    /// <summary>The password expired, with or without a temporary password (Okta <c>user.account.expire_password</c>).</summary>
    PasswordExpired,

    /// <summary>Every factor removed (Okta <c>user.mfa.factor.reset_all</c>).</summary>
    FactorsReset,

    /// <summary>One factor or authentication method removed.</summary>
    FactorRemoved,

    /// <summary>A factor enrolled for the user by someone else (Okta <c>user.mfa.factor.activate</c> by an admin).</summary>
    FactorEnrolled,

    /// <summary>An Okta temporary access code or an Entra Temporary Access Pass.</summary>
    TemporaryAccessIssued,

    Unlocked,
    SessionsRevoked,
}

/// <summary>
/// One account action read from the IdP's log. Holds identifiers only: the IdP's ids and logins of the actor and the
/// target, which the portal pseudonymises and masks before anything is stored (the raw event is never kept).
/// </summary>
/// <param name="EventId">The IdP's own id of the log event (Okta <c>uuid</c>, Graph <c>id</c>): the key that records it once.</param>
/// <param name="At">When the IdP says it happened.</param>
/// <param name="Kind">Which account action.</param>
/// <param name="ActorId">The IdP id of who did it: a user id, or for an application its client/app id.</param>
/// <param name="ActorLogin">The actor's login (Okta <c>alternateId</c>, Entra UPN) or an application's name; masked before it is stored.</param>
/// <param name="ActorIsApplication">An API client acted (Okta <c>PublicClientApp</c>, Graph <c>initiatedBy.app</c>), not a person.</param>
/// <param name="TargetId">The IdP id of the user whose account it was; pseudonymised before it is stored.</param>
/// <param name="TargetLogin">That user's login; masked before it is stored.</param>
/// <param name="ByPortal">Done with the portal's own credential for this tenant (its service app, API token or app registration).</param>
/// <param name="ActorAddress">The client address the IdP logged for the actor, when it did; truncated to its network before it is stored.</param>
public sealed record AccountActionEvent(
    string EventId,
    DateTimeOffset At,
    AccountActionKind Kind,
    string ActorId,
    string? ActorLogin,
    bool ActorIsApplication,
    string TargetId,
    string? TargetLogin,
    bool ByPortal,
    string? ActorAddress = null);

/// <summary>
/// A page of account actions, oldest first, and where the next read starts. <see cref="Cursor"/> is opaque to the
/// caller and stored as it is; <see cref="CaughtUp"/> says the log has nothing newer now.
/// </summary>
public sealed record AccountActionPage(IReadOnlyList<AccountActionEvent> Events, string Cursor, bool CaughtUp);

/// <summary>Reads the account actions in a tenant's IdP log (Okta System Log; Microsoft Graph directory audits).</summary>
public interface IAccountActionLog
{
    /// <summary>
    /// The next page after <paramref name="cursor"/>; without a cursor, from <paramref name="since"/>. Events that are
    /// not account actions, or that failed, are left out; self-service (the user acting on their own account) too.
    /// A page may repeat events of the previous one (Entra's log is read with an overlap): the event id tells.
    /// </summary>
    Task<IdpResult<AccountActionPage>> ReadAccountActionsAsync(string? cursor, DateTimeOffset since, CancellationToken cancellationToken = default);
}
